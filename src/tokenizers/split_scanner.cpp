#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/split_scanner.h"

#include <pcre2.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizers/unicode.h"

namespace accel::tok {
namespace {

// The only character classes both patterns use: \s, \p{L}, \p{N} (disjoint) and the rest.
enum Cls : uint8_t { kOther = 0, kSpace = 1, kLetter = 2, kNumber = 3 };

// Class of every code point as PCRE2 (UTF + UCP) decides it, asked of PCRE2 itself one block of
// 256 code points at a time, the first time the scanner meets a code point of that block.
// Taking utf8proc's categories instead would not be exact: Debian's utf8proc 2.8 has Unicode
// 15.0 tables, PCRE2 10.42 has 14.0, and 4388 code points (e.g. U+11F02, U+31350) are letters
// or digits for one and unassigned for the other.
class PcreClasses {
 public:
  static const PcreClasses& Get() {
    static const PcreClasses* classes = new PcreClasses();  // never freed: pool threads may outlive statics
    return *classes;
  }

  Cls Ascii(unsigned char c) const { return static_cast<Cls>(ascii_[c]); }  // c < 0x80
  Cls Of(char32_t c) const {
    if (c < 0x80) return static_cast<Cls>(ascii_[c]);
    if (c > 0x10FFFF) return kOther;
    const uint8_t* block = blocks_[c >> 8].load(std::memory_order_acquire);
    if (!block) block = Fill(c >> 8);
    return static_cast<Cls>(block[c & 0xFF]);
  }

 private:
  static constexpr size_t kBlocks = 0x110000 >> 8;

  PcreClasses() {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    static constexpr char kPattern[] = R"((\s+)|(\p{L}+)|(\p{N}+))";
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                          &err_offset, nullptr);
    if (!code_) std::abort();  // a constant pattern: fails only if PCRE2 lacks Unicode support
    const uint8_t* first = Fill(0);
    for (int c = 0; c < 0x80; ++c) ascii_[c] = first[c];
  }

  const uint8_t* Fill(size_t b) const {
    auto* block = new uint8_t[256]();
    const char32_t base = static_cast<char32_t>(b << 8);
    if (base < 0xD800 || base > 0xDFFF) {  // surrogate blocks stay kOther (they cannot occur in UTF-8)
      std::string text;
      std::array<uint32_t, 256 * 4> cp_at{};  // byte offset -> code point
      for (char32_t c = base; c < base + 256; ++c) {
        cp_at[text.size()] = c;
        AppendUtf8(text, c);
      }
      pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
      if (!md) std::abort();
      size_t pos = 0;
      while (pos < text.size()) {
        int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, 0, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const uint8_t cls = rc == 2 ? kSpace : rc == 3 ? kLetter : kNumber;  // rc = 1 + highest set group
        for (size_t i = ov[0]; i < ov[1];) {
          int len;
          DecodeUtf8(text, i, &len);
          block[cp_at[i] - base] = cls;
          i += len;
        }
        pos = ov[1];
      }
      pcre2_match_data_free(md);
    }
    const uint8_t* expected = nullptr;
    if (!blocks_[b].compare_exchange_strong(expected, block, std::memory_order_acq_rel)) {
      delete[] block;  // another thread filled it first
      return expected;
    }
    return block;
  }

  pcre2_code* code_ = nullptr;
  uint8_t ascii_[0x80] = {};
  mutable std::array<std::atomic<const uint8_t*>, kBlocks> blocks_{};
};

struct Char {
  char32_t cp;
  uint32_t len;
  Cls cls;
};

// Walks valid UTF-8 (a truncated sequence at the end is read as one kOther byte, never past
// the end) and classifies characters.
class Text {
 public:
  explicit Text(std::string_view s) : s_(s), classes_(PcreClasses::Get()) {}
  size_t size() const { return s_.size(); }
  unsigned char byte(size_t i) const { return static_cast<unsigned char>(s_[i]); }

  Char At(size_t i) const {
    unsigned char b = byte(i);
    if (b < 0x80) return {b, 1, classes_.Of(b)};
    uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (len == 1 || i + len > s_.size()) return {0xFFFD, 1, kOther};
    int l;
    char32_t c = DecodeUtf8(s_, i, &l);
    return {c, len, classes_.Of(c)};
  }

  // End of the run of `cls` characters starting at i.
  size_t RunEnd(size_t i, Cls cls) const {
    const size_t n = s_.size();
    while (i < n) {
      const unsigned char b = byte(i);
      if (b < 0x80) {  // most text: no decoding
        if (classes_.Ascii(b) != cls) break;
        ++i;
        continue;
      }
      Char c = At(i);
      if (c.cls != cls) break;
      i += c.len;
    }
    return i;
  }

  // After a run of non-space characters, [\r\n]*.
  size_t CrLfRunEnd(size_t i) const {
    while (i < s_.size() && (s_[i] == '\r' || s_[i] == '\n')) ++i;
    return i;
  }

  // The run of \s starting at p (p is a space): its end, the start of its last character and
  // the position of its last \r or \n (npos if none).
  struct SpaceRun {
    size_t end, last, last_crlf;
  };
  SpaceRun Spaces(size_t p) const {
    SpaceRun r{p, p, std::string_view::npos};
    while (r.end < s_.size()) {
      Char c = At(r.end);
      if (c.cls != kSpace) break;
      if (c.cp == '\r' || c.cp == '\n') r.last_crlf = r.end;
      r.last = r.end;
      r.end += c.len;
    }
    return r;
  }

  // \s+(?!\S)|\s+ at a space run: the whole run at the end of the text; otherwise all but its
  // last character (which then starts the next piece) unless that would leave nothing.
  size_t SpaceTail(size_t p, const SpaceRun& r) const {
    if (r.end == s_.size() || r.last == p) return r.end;
    return r.last;
  }

 private:
  std::string_view s_;
  const PcreClasses& classes_;
};

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t Gpt2MatchEnd(const Text& t, size_t p) {
  const size_t n = t.size();
  Char c0 = t.At(p);
  size_t p1 = p + c0.len;
  if (c0.cp == '\'' && p1 < n) {
    unsigned char a = t.byte(p1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return p1 + 1;
    if (p1 + 1 < n) {
      unsigned char b = t.byte(p1 + 1);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return p1 + 2;
    }
  }
  if (c0.cp == ' ' && p1 < n) {
    Char c1 = t.At(p1);
    if (c1.cls != kSpace) return t.RunEnd(p1 + c1.len, c1.cls);  // one optional space, then a run
  }
  if (c0.cls != kSpace) return t.RunEnd(p1, c0.cls);
  return t.SpaceTail(p, t.Spaces(p));
}

// Simple case folding as PCRE2 applies it to the contraction letters: ASCII, plus U+017F
// (long s), which folds to 's'.
char32_t FoldContraction(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + ('a' - 'A');
  if (c == 0x17F) return 's';
  return c;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t Llama3MatchEnd(const Text& t, size_t p) {
  const size_t n = t.size();
  Char c0 = t.At(p);
  size_t p1 = p + c0.len;
  Char c1{0, 0, kOther};
  if (p1 < n) c1 = t.At(p1);
  if (c0.cp == '\'' && p1 < n) {
    char32_t a = FoldContraction(c1.cp);
    size_t p2 = p1 + c1.len;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return p2;
    if ((a == 'r' || a == 'v' || a == 'l') && p2 < n) {
      Char c2 = t.At(p2);
      char32_t b = FoldContraction(c2.cp);
      if (((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l')) return p2 + c2.len;
    }
  }
  if (c0.cls == kLetter) return t.RunEnd(p1, kLetter);
  const bool crlf0 = c0.cp == '\r' || c0.cp == '\n';
  if (c0.cls != kNumber && !crlf0 && p1 < n && c1.cls == kLetter) return t.RunEnd(p1 + c1.len, kLetter);
  if (c0.cls == kNumber) {
    size_t e = p1;
    for (int k = 1; k < 3 && e < n; ++k) {
      Char c = t.At(e);
      if (c.cls != kNumber) break;
      e += c.len;
    }
    return e;
  }
  if (c0.cp == ' ' && p1 < n && c1.cls == kOther) return t.CrLfRunEnd(t.RunEnd(p1 + c1.len, kOther));
  if (c0.cls == kOther) return t.CrLfRunEnd(t.RunEnd(p1, kOther));
  Text::SpaceRun r = t.Spaces(p);
  // \s*[\r\n]+ backtracks to the last line break of the run and keeps the spaces before it.
  if (r.last_crlf != std::string_view::npos) return r.last_crlf + 1;
  return t.SpaceTail(p, r);
}

}  // namespace

SplitScanner ScannerForPattern(std::string_view pattern) {
  if (pattern == kGpt2SplitPattern) return SplitScanner::kGpt2;
  if (pattern == kLlama3SplitPattern) return SplitScanner::kLlama3;
  return SplitScanner::kNone;
}

void ScanSplits(SplitScanner scanner, std::string_view text, std::vector<std::pair<size_t, size_t>>& out) {
  if (scanner == SplitScanner::kNone || text.empty()) return;
  Text t(text);
  // Every character starts a match of either pattern, so the matches tile the text.
  for (size_t p = 0; p < text.size();) {
    size_t e = scanner == SplitScanner::kGpt2 ? Gpt2MatchEnd(t, p) : Llama3MatchEnd(t, p);
    out.emplace_back(p, e);
    p = e;
  }
}

}  // namespace accel::tok
