// The split-words path (split_words.h) against the general pipeline it replaces: the same
// tokenizer.json parsed with and without it must give identical encodings, for BERT's fixture
// and for tokenizers built here from it with every splitting pre-tokenizer, several
// normalizers, and WordPiece, WordLevel, BPE and Unigram models.
#include <random>

#include "tokenizers/fast_path_compare.h"

namespace accel::tok {
namespace {

void ExpectSame(const nlohmann::json& j, const char* what) {
  SCOPED_TRACE(what);
  Pair p = Parse(j.dump());
  ASSERT_TRUE(p.fast);
  EXPECT_TRUE(p.fast->fast_split_words()) << what << " should take the split-words path";
  std::vector<std::string> added;
  for (const auto& t : j["added_tokens"]) added.push_back(t["content"].get<std::string>());
  for (const auto& t : FixtureTexts()) ASSERT_TRUE(SameEncoding(p, t)) << "'" << t << "'";
  std::mt19937 rng(3);
  for (int i = 0; i < 1500; ++i) {
    std::string t = RandomText(rng, added);
    ASSERT_TRUE(SameEncoding(p, t)) << "'" << t << "'";
  }
}

nlohmann::json Bert() {
  return nlohmann::json::parse(ReadAll(test::DataDir() + "/tokenizers/bert-wordpiece/tokenizer.json"));
}

nlohmann::json Split(const char* regex, const char* behavior, bool invert) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", behavior}, {"invert", invert}};
}

TEST(SplitWords, BertFixture) { ExpectSame(Bert(), "bert-wordpiece"); }

TEST(SplitWords, EverySplittingPreTokenizer) {
  const std::vector<std::pair<const char*, nlohmann::json>> pre = {
      {"Whitespace", {{"type", "Whitespace"}}},
      {"WhitespaceSplit", {{"type", "WhitespaceSplit"}}},
      {"Punctuation isolated", {{"type", "Punctuation"}, {"behavior", "Isolated"}}},
      {"Punctuation merged with previous", {{"type", "Punctuation"}, {"behavior", "MergedWithPrevious"}}},
      {"Punctuation merged with next", {{"type", "Punctuation"}, {"behavior", "MergedWithNext"}}},
      {"Punctuation contiguous", {{"type", "Punctuation"}, {"behavior", "Contiguous"}}},
      {"Digits", {{"type", "Digits"}, {"individual_digits", false}}},
      {"Digits individual", {{"type", "Digits"}, {"individual_digits", true}}},
      {"CharDelimiterSplit", {{"type", "CharDelimiterSplit"}, {"delimiter", "a"}}},
      {"Split removed", Split(R"(\s+)", "Removed", false)},
      {"Split removed inverted", Split(R"(\p{L}+|\p{N})", "Removed", true)},
      {"Split with empty matches", Split(R"(a*)", "Isolated", false)},
      {"Split GPT-2 pattern", Split(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", "Isolated", false)},
      {"Sequence", {{"type", "Sequence"},
                    {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}, {"individual_digits", true}},
                                       {{"type", "Punctuation"}, {"behavior", "MergedWithNext"}}}}}},
  };
  for (const auto& [name, p] : pre) {
    nlohmann::json j = Bert();
    j["pre_tokenizer"] = p;
    ExpectSame(j, name);
  }
}

TEST(SplitWords, Normalizers) {
  const std::vector<std::pair<const char*, nlohmann::json>> norms = {
      {"none", nullptr},
      {"NFKC + Lowercase", {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}, {{"type", "Lowercase"}}}}}},
      {"NFD + StripAccents", {{"type", "Sequence"}, {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}}}}},
      {"Replace + Prepend", {{"type", "Sequence"},
                             {"normalizers", {{{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", " ## "}},
                                              {{"type", "Prepend"}, {"prepend", "X"}}}}}},
      {"Bert, no lowercase", {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                              {"strip_accents", nullptr}, {"lowercase", false}}},
  };
  for (const auto& [name, n] : norms) {
    nlohmann::json j = Bert();
    j["normalizer"] = n;
    ExpectSame(j, name);
  }
}

TEST(SplitWords, OtherModels) {
  nlohmann::json j = Bert();
  j["model"] = {{"type", "WordLevel"}, {"vocab", Bert()["model"]["vocab"]}, {"unk_token", "[UNK]"}};
  ExpectSame(j, "WordLevel");

  // A character-level BPE (not byte-level) on the same vocabulary, unk for the rest.
  j = Bert();
  nlohmann::json merges = nlohmann::json::array();
  for (const char* m : {"t h", "th e", "i n", "a n", "an d"}) merges.push_back(m);
  nlohmann::json vocab = j["model"]["vocab"];
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"unk_token", "[UNK]"}, {"fuse_unk", true}};
  ExpectSame(j, "BPE");

  nlohmann::json t5 = nlohmann::json::parse(ReadAll(test::DataDir() + "/tokenizers/t5-unigram/tokenizer.json"));
  t5["pre_tokenizer"] = {{"type", "WhitespaceSplit"}};
  ExpectSame(t5, "Unigram");
}

}  // namespace
}  // namespace accel::tok
