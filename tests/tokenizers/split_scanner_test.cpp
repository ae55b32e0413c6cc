// The hand-written GPT-2 / Llama-3 split scanners against PCRE2 running the same patterns:
// every Unicode scalar value in several contexts, random strings over the characters the
// patterns treat specially, and every fixture text.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace accel::tok {
namespace {

using Matches = std::vector<std::pair<size_t, size_t>>;

struct Engines {
  std::shared_ptr<const Regex> fast, reference;
};

Engines Load(std::string_view pattern) {
  auto fast = Regex::Compile(std::string(pattern));
  auto ref = Regex::Compile(std::string(pattern), Regex::Engine::kPcre2);
  EXPECT_TRUE(fast.ok() && ref.ok());
  return {fast.value(), ref.value()};
}

const std::vector<std::pair<const char*, std::string_view>>& Patterns() {
  static const std::vector<std::pair<const char*, std::string_view>> p{{"gpt2", kGpt2SplitPattern},
                                                                       {"llama3", kLlama3SplitPattern}};
  return p;
}

std::string Show(std::string_view text, const Matches& m, size_t i) {
  if (i >= m.size()) return "(none)";
  std::string out = "[" + std::to_string(m[i].first) + "," + std::to_string(m[i].second) + ") '";
  for (size_t k = m[i].first; k < m[i].second && k < text.size(); ++k) {
    unsigned char ch = static_cast<unsigned char>(text[k]);
    if (ch < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", ch);
      out += hex;
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  return out + "'";
}

// Compares both engines on `text`; on a difference, reports the first differing match.
::testing::AssertionResult SameMatches(const Engines& e, std::string_view text) {
  Matches a, b;
  Status sa = e.fast->FindAll(text, a), sb = e.reference->FindAll(text, b);
  if (!sa.ok() || !sb.ok()) return ::testing::AssertionFailure() << "FindAll failed";
  if (a == b) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return ::testing::AssertionFailure() << "match " << i << ": scanner " << Show(text, a, i) << ", pcre2 "
                                       << Show(text, b, i);
}

TEST(SplitScanner, SelectedOnlyForTheExactPatterns) {
  EXPECT_EQ(ScannerForPattern(kGpt2SplitPattern), SplitScanner::kGpt2);
  EXPECT_EQ(ScannerForPattern(kLlama3SplitPattern), SplitScanner::kLlama3);
  // Qwen2's pattern differs from Llama-3's in one quantifier; CLIP's is GPT-2-like.
  EXPECT_EQ(ScannerForPattern(R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"),
            SplitScanner::kNone);
  EXPECT_EQ(ScannerForPattern(R"('s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)"), SplitScanner::kNone);
  EXPECT_EQ(ScannerForPattern(std::string(kGpt2SplitPattern) + " "), SplitScanner::kNone);

  auto fast = Regex::Compile(std::string(kLlama3SplitPattern));
  auto ref = Regex::Compile(std::string(kLlama3SplitPattern), Regex::Engine::kPcre2);
  auto other = Regex::Compile(R"(\p{L}+|\s+)");
  ASSERT_TRUE(fast.ok() && ref.ok() && other.ok());
  EXPECT_EQ(fast.value()->scanner(), SplitScanner::kLlama3);
  EXPECT_EQ(ref.value()->scanner(), SplitScanner::kNone);
  EXPECT_EQ(other.value()->scanner(), SplitScanner::kNone);
}

TEST(SplitScanner, Pcre2UsesJitWhereTheRegexStays) {
  uint32_t jit_available = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit_available);
  if (!jit_available) GTEST_SKIP() << "this PCRE2 build has no JIT";
  for (const char* p : {R"(\p{L}+|\s+)", R"('s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)"}) {
    auto re = Regex::Compile(p);
    ASSERT_TRUE(re.ok());
    EXPECT_TRUE(re.value()->jit()) << p;
  }
}

TEST(SplitScanner, HandPickedCases) {
  const char* cases[] = {
      "", " ", "  ", "a", "'s", "'S", "'\xC5\xBF", "'re'RE'Ll'lL'vE'd'M'T", "'x", "''s", " 's", "'", "a'", "'r", "'l", "'rx",
      "Hello world", "Hello  world", "Hello   world  ", "a\n\nb", "a \n \n b", "a\n  ", "\n", "\r\n", " \r\n x", "x\t\ty",
      "12345 678", " 12", "$12.50!", "(hello)", ".\n\nx", " .\r\n\r\ny", "\xE3\x80\x80word", "\xC2\xA0word", "a\xC2\x85" "b",
      "\xE1\xA0\x8E" "x", "\xE2\x80\xA8x", "na\xC3\xAFve caf\xC3\xA9", "\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4", "e\xCC\x81t\xC3\xA9",
      "\xF0\x9F\x98\x80\xF0\x9F\x98\x80 x", "\xF0\x91\xBC\x82 \xF0\xB1\x8D\x90", "\xF4\x8F\xBF\xBF", "\t", "\t\t", " \t"};
  for (const auto& [name, pattern] : Patterns()) {
    Engines e = Load(pattern);
    for (const char* c : cases) EXPECT_TRUE(SameMatches(e, c)) << name << " on '" << c << "'";
  }
}

// Each scalar value in contexts that reach every decision of both scanners: after a space
// (optional-space alternatives), before a letter (Llama-3's one-char prefix), inside letter,
// digit, punctuation and space runs, and after an apostrophe (contractions).
TEST(SplitScanner, EveryCodePointInContext) {
  for (const auto& [name, pattern] : Patterns()) {
    Engines e = Load(pattern);
    std::string text;
    char32_t chunk_start = 0;
    auto flush = [&](char32_t end) {
      EXPECT_TRUE(SameMatches(e, text)) << name << ", code points U+" << std::hex << static_cast<uint32_t>(chunk_start) << "..U+" << static_cast<uint32_t>(end);
      text.clear();
      chunk_start = end + 1;
    };
    for (char32_t c = 0; c <= 0x10FFFF; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      text += "x";
      AppendUtf8(text, c);
      text += "1";
      AppendUtf8(text, c);
      text += " ";
      AppendUtf8(text, c);
      text += "a";
      AppendUtf8(text, c);
      text += "\n";
      if (c < 0x10000) {  // every character that folds to a contraction letter is in the BMP
        // A letter after each so that a contraction and an apostrophe-letter run differ.
        text += "'";
        AppendUtf8(text, c);
        text += "b'r";
        AppendUtf8(text, c);
        text += "b'l";
        AppendUtf8(text, c);
        text += "b.";
      }
      if ((c & 0xFFF) == 0xFFF) flush(c);
    }
    if (!text.empty()) flush(0x10FFFF);
  }
}

TEST(SplitScanner, RandomStrings) {
  // Characters the patterns treat differently: ASCII classes, contraction letters, line
  // breaks, Unicode spaces (NBSP, U+0085, U+180E, U+2028, U+3000), letters and digits of other
  // scripts, combining marks, emoji, Unicode 15 additions, unassigned and private-use.
  const std::vector<char32_t> alphabet = {
      'a', 'Z', 's', 'S', 't', 'r', 'e', 'v', 'E', 'm', 'l', 'L', 'd', '\'', ' ', ' ', ' ', '\t', '\n', '\r', '\v', '\f',
      '0', '7', '.', ',', '!', '$', '_', '-', 0x17F, 0xA0, 0x85, 0x180E, 0x2028, 0x2029, 0x3000, 0x2003, 0xE9, 0x4E2D,
      0x0661, 0x0966, 0x2163, 0xBD, 0x301, 0x200D, 0x1F600, 0x11F02, 0x31350, 0xE000, 0x378, 0x10FFFF, 0x212A, 0xDF};
  std::mt19937 rng(1234);
  for (const auto& [name, pattern] : Patterns()) {
    Engines e = Load(pattern);
    for (int iter = 0; iter < 20000; ++iter) {
      std::string text;
      int len = static_cast<int>(rng() % 24);
      for (int k = 0; k < len; ++k) AppendUtf8(text, alphabet[rng() % alphabet.size()]);
      ASSERT_TRUE(SameMatches(e, text)) << name << " iteration " << iter;
    }
  }
}

TEST(SplitScanner, FixtureTexts) {
  namespace fs = std::filesystem;
  std::vector<std::string> texts;
  for (const auto& dir : fs::directory_iterator(test::DataDir() + "/tokenizers")) {
    std::ifstream in(dir.path() / "expected.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      texts.push_back(j["text"].get<std::string>());
      if (j.contains("text_pair")) texts.push_back(j["text_pair"].get<std::string>());
    }
  }
  ASSERT_GT(texts.size(), 100u);
  for (const auto& [name, pattern] : Patterns()) {
    Engines e = Load(pattern);
    for (const auto& t : texts) EXPECT_TRUE(SameMatches(e, t)) << name;
  }
}

}  // namespace
}  // namespace accel::tok
