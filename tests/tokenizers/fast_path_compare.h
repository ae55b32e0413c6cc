#pragma once
// Shared by the fast-path tests: one tokenizer.json parsed with and without the fast paths,
// and a comparison of the encodings both give for a text.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizers/backend.h"
#include "tokenizers/unicode.h"

namespace accel::tok {

struct Pair {
  std::unique_ptr<Backend> fast, general;
};

inline Pair Parse(const std::string& json_text) {
  auto fast = ParseHfTokenizer(json_text, nullptr, nullptr, /*fast_paths=*/true);
  auto general = ParseHfTokenizer(json_text, nullptr, nullptr, /*fast_paths=*/false);
  EXPECT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_TRUE(general.ok()) << general.status().ToString();
  if (!fast.ok() || !general.ok()) return {};
  EXPECT_FALSE(general.value()->fast_byte_level());
  EXPECT_FALSE(general.value()->fast_split_words());
  return {std::move(fast).value(), std::move(general).value()};
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline ::testing::AssertionResult SameEncoding(const Pair& p, const std::string& text) {
  auto a = p.fast->EncodeSequence(text, 0);
  auto b = p.general->EncodeSequence(text, 0);
  if (a.ok() != b.ok()) return ::testing::AssertionFailure() << "one path failed: " << (a.ok() ? b : a).status().ToString();
  if (!a.ok()) return ::testing::AssertionSuccess();  // both report the same kind of error
  const Encoding &x = a.value(), &y = b.value();
  if (x.ids != y.ids) return ::testing::AssertionFailure() << "ids differ";
  if (x.tokens != y.tokens) return ::testing::AssertionFailure() << "tokens differ";
  for (size_t i = 0; i < x.offsets.size() && i < y.offsets.size(); ++i)
    if (x.offsets[i] != y.offsets[i])
      return ::testing::AssertionFailure() << "offsets of token " << i << " '" << x.tokens[i] << "': fast [" << x.offsets[i].first
                                           << "," << x.offsets[i].second << ") general [" << y.offsets[i].first << ","
                                           << y.offsets[i].second << ")";
  if (x.offsets != y.offsets) return ::testing::AssertionFailure() << "offsets differ";
  if (x.word_ids != y.word_ids) return ::testing::AssertionFailure() << "word ids differ";
  if (x.type_ids != y.type_ids || x.attention_mask != y.attention_mask || x.special_tokens_mask != y.special_tokens_mask ||
      x.sequence_ids != y.sequence_ids)
    return ::testing::AssertionFailure() << "masks or ids differ";
  return ::testing::AssertionSuccess();
}

// Random text over characters that exercise splitting, normalizing, mapping and offsets: ASCII
// classes, contractions, line breaks, controls, 2/3/4-byte characters, letters that decompose
// or lowercase to several chars, combining marks (reordered by NFD), CJK (padded by BERT), and
// the given pieces (added-token strings) whole.
inline std::string RandomText(std::mt19937& rng, const std::vector<std::string>& pieces) {
  static const std::vector<char32_t> alphabet = {'a', 'b', 'e', 'l', 'o', 's', 't', 'I', 'Q', '\'', ' ', ' ', ' ', '\t', '\n',
                                                 '\r', '0', '9', '.', ',', '<', '|', '>', 0xE9, 0xDF, 0x17F, 0xA0, 0x3000,
                                                 0x4E2D, 0x6587, 0x301, 0x1F600, 0x10FFFF, 0x0661, 'A', 'Z',
                                                 0x1, 0x7F, 0xB, 0xFFFD, 0x200B, 0xC5, 0x130, 0xF900, 0x323,
                                                 0x1D165, 0x1D16D, '#', '-', '_', 0x2163, 0xFF21};
  std::string out;
  int len = static_cast<int>(rng() % 40);
  for (int k = 0; k < len; ++k) {
    if (!pieces.empty() && rng() % 8 == 0) out += pieces[rng() % pieces.size()];
    else AppendUtf8(out, alphabet[rng() % alphabet.size()]);
  }
  return out;
}

inline std::vector<std::string> FixtureTexts() {
  std::vector<std::string> texts;
  for (const auto& dir : std::filesystem::directory_iterator(test::DataDir() + "/tokenizers")) {
    std::ifstream in(dir.path() / "expected.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      texts.push_back(j["text"].get<std::string>());
      if (j.contains("text_pair")) texts.push_back(j["text_pair"].get<std::string>());
    }
  }
  return texts;
}

}  // namespace accel::tok
