#include "tokenizers/unicode.h"

#include <algorithm>
#include <cstring>

#include <utf8proc.h>

namespace accel::tok {

char32_t DecodeUtf8(std::string_view s, size_t i, int* len) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) { *len = 1; return b; }
  if ((b >> 5) == 6) {
    *len = 2;
    return ((b & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
  }
  if ((b >> 4) == 14) {
    *len = 3;
    return ((b & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3F);
  }
  *len = 4;
  return ((b & 0x07) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 12) |
         ((static_cast<unsigned char>(s[i + 2]) & 0x3F) << 6) |
         (static_cast<unsigned char>(s[i + 3]) & 0x3F);
}

int Utf8Len(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Eight ASCII bytes at a time: no byte has its top bit set.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) { ++i; continue; }
    int len;
    char32_t min;
    if ((b >> 5) == 6) { len = 2; min = 0x80; }
    else if ((b >> 4) == 14) { len = 3; min = 0x800; }
    else if ((b >> 3) == 30) { len = 4; min = 0x10000; }
    else return i;
    if (i + len > n) return i;
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    int l2;
    char32_t c = DecodeUtf8(s, i, &l2);
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

std::u32string ToU32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int len;
    out.push_back(DecodeUtf8(s, i, &len));
    i += len;
  }
  return out;
}

static utf8proc_category_t Category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool IsWhitespace(char32_t c) {
  // White_Space = the Z categories plus the C0 controls TAB..CR and NEL.
  if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
  if (c == 0x85) return true;
  auto cat = Category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool IsControlOrOther(char32_t c) {
  if (c < 0x80) return c < 0x20 || c == 0x7F;  // ASCII's only C* characters are its controls (Cc)
  auto cat = Category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CS ||
         cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN;
}

bool IsPunctuation(char32_t c) {
  auto cat = Category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool IsAsciiPunctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

bool IsNumeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  auto cat = Category(c);
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

bool IsMarkNonspacing(char32_t c) { return c >= 0x80 && Category(c) == UTF8PROC_CATEGORY_MN; }

bool IsCombiningMark(char32_t c) {
  if (c < 0x80) return false;  // no ASCII character is a mark
  auto cat = Category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
}

bool IsSpaceSeparator(char32_t c) { return Category(c) == UTF8PROC_CATEGORY_ZS; }

void LowercaseChar(char32_t c, std::vector<char32_t>& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  // U+0130 is the only character whose unconditional full lowercase mapping (SpecialCasing)
  // differs from the simple mapping utf8proc provides.
  if (c == 0x130) {
    out.push_back('i');
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

void UppercaseChar(char32_t c, std::vector<char32_t>& out) {
  if (c < 0x80) {
    out.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  // Full uppercase mappings with several chars (ß -> SS, ligatures) come from the titlecase/
  // decomposition data; utf8proc exposes only the simple mapping, which we use.
  if (c == 0xDF) {
    out.push_back('S');
    out.push_back('S');
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
}

namespace {

int CombiningClass(char32_t c) {
  if (c < 0x80) return 0;  // no ASCII character combines
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

// Composes a starter with a following char if a primary composite exists (utf8proc applies the
// composition exclusions and Hangul rules).
bool Compose(char32_t a, char32_t b, char32_t* out) {
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  if (n == 1) {
    *out = static_cast<char32_t>(buf[0]);
    return true;
  }
  return false;
}

}  // namespace

std::vector<CharChange> NormalizeWithChanges(std::string_view s, NormalForm form) {
  const bool compat = form == NormalForm::kNfkd || form == NormalForm::kNfkc;
  const bool compose = form == NormalForm::kNfc || form == NormalForm::kNfkc;
  std::vector<CharChange> out;
  out.reserve(s.size());
  utf8proc_int32_t buf[32];
  auto opts = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  // 1. Decompose char by char: the first char of a decomposition replaces the input char,
  // the others are insertions.
  for (size_t i = 0; i < s.size();) {
    int len;
    char32_t c = DecodeUtf8(s, i, &len);
    i += len;
    if (c < 0x80) {  // ASCII has no decompositions
      out.push_back({c, 0});
      continue;
    }
    int last_boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32, opts, &last_boundclass);
    if (n <= 0 || n > 32) {
      out.push_back({c, 0});
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back({static_cast<char32_t>(buf[k]), k == 0 ? 0 : 1});
  }
  // 2. Canonical ordering: stable sort each run of non-starters by combining class; the
  // change travels with its char.
  for (size_t i = 0; i < out.size();) {
    if (CombiningClass(out[i].c) == 0) { ++i; continue; }
    size_t j = i;
    while (j < out.size() && CombiningClass(out[j].c) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(out.begin() + i, out.begin() + j,
                       [](const CharChange& a, const CharChange& b) { return CombiningClass(a.c) < CombiningClass(b.c); });
    i = j;
  }
  if (!compose) return out;
  // 3. Canonical composition: a char absorbed into its starter disappears, and the starter's
  // change accounts for it (change_a + change_b - 1).
  std::vector<CharChange> res;
  res.reserve(out.size());
  long starter = -1;
  int last_class = 0;  // class of the last char kept after the starter (0 = none)
  for (const CharChange& cc : out) {
    int cls = CombiningClass(cc.c);
    bool adjacent = starter >= 0 && res.size() - 1 == static_cast<size_t>(starter);
    bool blocked = !adjacent && (cls == 0 || last_class >= cls);
    char32_t composed;
    if (starter >= 0 && !blocked && Compose(res[starter].c, cc.c, &composed)) {
      res[starter].c = composed;
      res[starter].change += cc.change - 1;
      continue;
    }
    if (cls == 0) {
      starter = static_cast<long>(res.size());
      last_class = 0;
    } else {
      last_class = cls;
    }
    res.push_back(cc);
  }
  return res;
}

std::vector<std::pair<size_t, size_t>> GraphemeClusters(std::string_view s) {
  std::vector<std::pair<size_t, size_t>> out;
  if (s.empty()) return out;
  utf8proc_int32_t state = 0;
  size_t start = 0;
  int len;
  char32_t prev = DecodeUtf8(s, 0, &len);
  size_t i = len;
  while (i < s.size()) {
    char32_t c = DecodeUtf8(s, i, &len);
    if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(c), &state)) {
      out.push_back({start, i});
      start = i;
    }
    prev = c;
    i += len;
  }
  out.push_back({start, s.size()});
  return out;
}

}  // namespace accel::tok
