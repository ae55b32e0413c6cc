// NormalizedString's short cuts (a transform that changes nothing is skipped, a 1:1 rewrite
// that keeps every char's length is done in place) against the plain Transform they stand
// for: text and the alignment of every byte must be identical after any sequence of operations.
#include <functional>
#include <random>

#include <utf8proc.h>

#include <gtest/gtest.h>

#include "tokenizers/normalized_string.h"
#include "tokenizers/unicode.h"

namespace accel::tok {
namespace {

std::vector<CharChange> Chars(const std::string& s, const std::function<char32_t(char32_t)>& fn) {
  std::vector<CharChange> dest;
  for (size_t i = 0; i < s.size();) {
    int len;
    dest.push_back({fn(DecodeUtf8(s, i, &len)), 0});
    i += len;
  }
  return dest;
}

void RefMap(NormalizedString& n, const std::function<char32_t(char32_t)>& fn) { n.Transform(Chars(n.get(), fn), 0); }

void RefLowercase(NormalizedString& n) {
  std::vector<CharChange> dest;
  const std::string& s = n.get();
  for (size_t i = 0; i < s.size();) {
    int len;
    std::vector<char32_t> tmp;
    LowercaseChar(DecodeUtf8(s, i, &len), tmp);
    i += len;
    for (size_t k = 0; k < tmp.size(); ++k) dest.push_back({tmp[k], k > 0 ? 1 : 0});
  }
  n.Transform(dest, 0);
}

void RefFilter(NormalizedString& n, const std::function<bool(char32_t)>& keep) {
  int removed = 0;
  size_t removed_start = 0;
  std::vector<CharChange> dest;
  std::optional<char32_t> last;
  const std::string& s = n.get();
  for (size_t i = 0; i < s.size();) {
    int len;
    char32_t c = DecodeUtf8(s, i, &len);
    i += len;
    if (keep(c)) {
      if (last) dest.push_back({*last, -removed});
      else removed_start = removed;
      last = c;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (last) dest.push_back({*last, -removed});
  n.Transform(dest, removed_start);
}

::testing::AssertionResult Same(const NormalizedString& a, const NormalizedString& b) {
  if (a.get() != b.get()) return ::testing::AssertionFailure() << "text '" << a.get() << "' vs '" << b.get() << "'";
  if (a.OffsetsOriginal() != b.OffsetsOriginal()) return ::testing::AssertionFailure() << "original span differs";
  for (size_t i = 0; i < a.len(); ++i)
    if (a.NormalizedToOriginal(i, i + 1) != b.NormalizedToOriginal(i, i + 1))
      return ::testing::AssertionFailure() << "alignment of byte " << i << " of '" << a.get() << "' differs";
  return ::testing::AssertionSuccess();
}

TEST(NormalizedString, ShortCutsEqualPlainTransforms) {
  const std::vector<char32_t> alphabet = {'a', 'B', 'z', ' ', ' ', '\t', '\n', 0x1, 0x7F, 0xE9, 0xC9, 0x130, 0xDF, 0x3A3,
                                          0x301, 0x4E2D, 0xFF21, 0x2163, 0x1F600, 0xA0, 0x3000, 0xFFFD, 0x200B};
  auto re = Regex::Compile(" +");
  auto empty_matches = Regex::Compile("x*");  // inserts at the very start: an empty alignment there
  ASSERT_TRUE(re.ok() && empty_matches.ok());
  std::mt19937 rng(5);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    for (int k = static_cast<int>(rng() % 12); k > 0; --k) AppendUtf8(text, alphabet[rng() % alphabet.size()]);
    NormalizedString fast(text), ref(text);
    for (int step = 0; step < 6; ++step) {
      switch (rng() % 10) {
        case 0: fast.Lowercase(); RefLowercase(ref); break;
        case 1: {
          auto ws = [](char32_t c) -> char32_t { return IsWhitespace(c) ? U' ' : c; };
          fast.Map(ws);
          RefMap(ref, ws);
          break;
        }
        case 2: {
          auto same = [](char32_t c) { return c; };
          fast.Map(same);
          RefMap(ref, same);
          break;
        }
        case 3: {
          auto keep = [](char32_t c) { return !IsControlOrOther(c); };
          fast.Filter(keep);
          RefFilter(ref, keep);
          break;
        }
        case 4: {
          auto all = [](char32_t) { return true; };
          fast.Filter(all);
          RefFilter(ref, all);
          break;
        }
        case 5: {
          NormalForm f = static_cast<NormalForm>(rng() % 4);
          fast.Normalize(f);
          ref.Transform(NormalizeWithChanges(ref.get(), f), 0);
          break;
        }
        case 6:  // alignments that are no longer one char per char
          ASSERT_TRUE(fast.Replace(*re.value(), "\xE2\x96\x81").ok());
          ASSERT_TRUE(ref.Replace(*re.value(), "\xE2\x96\x81").ok());
          break;
        case 7: fast.Prepend("\xE2\x96\x81"); ref.Prepend("\xE2\x96\x81"); break;
        case 9:
          if (fast.len() > 64) break;
          ASSERT_TRUE(fast.Replace(*empty_matches.value(), "_").ok());
          ASSERT_TRUE(ref.Replace(*empty_matches.value(), "_").ok());
          break;
        case 8: {
          if (fast.len() < 2) break;
          size_t a = rng() % fast.len(), b = a + rng() % (fast.len() - a + 1);
          while (a > 0 && (static_cast<unsigned char>(fast.get()[a]) & 0xC0) == 0x80) --a;
          while (b < fast.len() && (static_cast<unsigned char>(fast.get()[b]) & 0xC0) == 0x80) ++b;
          fast = fast.Slice(a, b);
          ref = ref.Slice(a, b);
          break;
        }
      }
      ASSERT_TRUE(Same(fast, ref)) << "text '" << text << "', iteration " << iter << ", step " << step;
    }
  }
}

// The ASCII answers unicode.cpp gives without asking utf8proc are utf8proc's answers.
TEST(Unicode, AsciiShortCutsAgreeWithUtf8proc) {
  for (char32_t c = 0; c < 0x80; ++c) {
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    EXPECT_EQ(IsControlOrOther(c), cat >= UTF8PROC_CATEGORY_CC && cat <= UTF8PROC_CATEGORY_CO) << static_cast<int>(c);
    EXPECT_EQ(IsNumeric(c), cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO) << static_cast<int>(c);
    EXPECT_EQ(IsMarkNonspacing(c), cat == UTF8PROC_CATEGORY_MN) << static_cast<int>(c);
    EXPECT_EQ(IsCombiningMark(c), cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) << static_cast<int>(c);
    EXPECT_EQ(utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class, 0) << static_cast<int>(c);
    auto nfd = NormalizeWithChanges(std::string(1, static_cast<char>(c)), NormalForm::kNfkd);
    ASSERT_EQ(nfd.size(), 1u);
    EXPECT_EQ(nfd[0].c, c);
  }
}

}  // namespace
}  // namespace accel::tok
