// Library behaviour beyond the goldens: pairs, batch, truncation/padding, decode, invalid and
// hostile input.
#include <chrono>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizers/tokenizer.h"

namespace accel {
namespace {

std::string Dir(const std::string& name) { return test::DataDir() + "/tokenizers/" + name; }

std::unique_ptr<Tokenizer> LoadOrDie(const std::string& name) {
  auto t = Tokenizer::Load(Dir(name));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Tokenizer, BatchEqualsSingleEncodes) {
  auto tok = LoadOrDie("gpt2-bytelevel-bpe");
  ASSERT_TRUE(tok);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("sample " + std::to_string(i) + " with some words, ünïcode and 😀");
  auto batch = tok->EncodeBatch(texts);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = tok->Encode(texts[i]);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->ids, (*batch)[i].ids);
    EXPECT_EQ(one->offsets, (*batch)[i].offsets);
  }
}

TEST(Tokenizer, ByteOffsetsMatchCodePointOffsets) {
  auto tok = LoadOrDie("bert-wordpiece");
  ASSERT_TRUE(tok);
  std::string text = "naïve café 東京";
  auto e = tok->Encode(text);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->byte_offsets.size(), e->offsets.size());
  // "東" is chars [11,12) and bytes [13,16)
  bool found = false;
  for (size_t i = 0; i < e->size(); ++i)
    if (e->tokens[i] == "東") {
      EXPECT_EQ(e->offsets[i], (std::pair<size_t, size_t>{11, 12}));
      EXPECT_EQ(e->byte_offsets[i], (std::pair<size_t, size_t>{13, 16}));
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(Tokenizer, TruncationAndPadding) {
  auto tok = LoadOrDie("bert-wordpiece");
  ASSERT_TRUE(tok);
  TruncationParams t;
  t.max_length = 6;
  tok->SetTruncation(t);
  auto e = tok->Encode("the quick brown fox jumps over the lazy dog");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 6u);
  EXPECT_EQ(e->ids.front(), *tok->TokenToId("[CLS]"));
  EXPECT_EQ(e->ids.back(), *tok->TokenToId("[SEP]"));
  EXPECT_FALSE(e->overflowing.empty());
  auto p = tok->EncodePair("one two three four five", "six seven eight nine ten");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 6u);

  tok->SetTruncation(std::nullopt);
  PaddingParams pad;
  pad.pad_id = *tok->TokenToId("[PAD]");
  pad.pad_token = "[PAD]";
  tok->SetPadding(pad);
  auto b = tok->EncodeBatch({"a", "a much longer sentence here"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].size(), (*b)[1].size());
  EXPECT_EQ((*b)[0].attention_mask.back(), 0);
  EXPECT_EQ((*b)[0].ids.back(), pad.pad_id);
  EXPECT_EQ((*b)[1].attention_mask.back(), 1);
}

TEST(Tokenizer, DecodeSkipsOnlySpecialTokens) {
  auto tok = LoadOrDie("whisper-bpe");
  ASSERT_TRUE(tok);
  auto e = tok->Encode("<|0.00|> hi");
  ASSERT_TRUE(e.ok());
  auto d = tok->Decode(e->ids, true);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value(), "<|0.00|> hi");  // timestamps are added but not special
  auto ds = tok->Decode(e->ids, false);
  ASSERT_TRUE(ds.ok());
  EXPECT_NE(ds->find("<|startoftranscript|>"), std::string::npos);
}

TEST(Tokenizer, InvalidUtf8IsRejectedWithOffset) {
  auto tok = LoadOrDie("gpt2-bytelevel-bpe");
  ASSERT_TRUE(tok);
  auto e = tok->Encode(std::string("ok \xff\xfe bad"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("byte 3"), std::string::npos) << e.status().message();
  auto p = tok->EncodePair("fine", std::string("\xc3"));
  EXPECT_FALSE(p.ok());
}

TEST(Tokenizer, EmptyInputGivesOnlySpecials) {
  auto tok = LoadOrDie("bert-wordpiece");
  ASSERT_TRUE(tok);
  auto e = tok->Encode("");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"[CLS]", "[SEP]"}));
  auto n = tok->Encode("", false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 0u);
}

TEST(Tokenizer, MegabyteWithoutSpacesIsLinear) {
  // 1 MB in one pre-token must not blow up (BPE merges use a heap, Unigram Viterbi is linear).
  std::string text(1 << 20, 'a');
  for (size_t i = 0; i < text.size(); i += 7) text[i] = 'b';
  for (const char* name : {"gpt2-bytelevel-bpe", "t5-unigram", "bert-wordpiece", "llama2-spm-bpe"}) {
    auto tok = LoadOrDie(name);
    ASSERT_TRUE(tok);
    auto e = tok->Encode(text);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    EXPECT_GT(e->size(), 0u) << name;
  }
}

TEST(Tokenizer, ThousandsOfSpecialTokens) {
  std::string j = ReadAll(Dir("bert-wordpiece") + "/tokenizer.json");
  auto doc = nlohmann::json::parse(j);
  for (int i = 0; i < 5000; ++i)
    doc["added_tokens"].push_back({{"id", 6000 + i}, {"content", "<tok" + std::to_string(i) + ">"}, {"single_word", false},
                                   {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}});
  auto tok = Tokenizer::FromJson(doc.dump());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto e = tok.value()->Encode("hello <tok4999> world <tok17>", false);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<int64_t>{4240, 10999, 2854, 6017}));
  EXPECT_EQ(e->tokens[1], "<tok4999>");
}

struct BadJsonCase {
  const char* what;
  std::function<void(nlohmann::json&)> mutate;
  const char* expect;
};

TEST(Tokenizer, MalformedTokenizerJsonGivesClearErrors) {
  nlohmann::json base = nlohmann::json::parse(ReadAll(Dir("roberta-bpe") + "/tokenizer.json"));
  std::vector<BadJsonCase> cases = {
      {"unknown normalizer", [](nlohmann::json& j) { j["normalizer"] = {{"type", "Frobnicate"}}; }, "unknown normalizer type 'Frobnicate'"},
      {"unknown model", [](nlohmann::json& j) { j["model"]["type"] = "Magic"; }, "unknown model type 'Magic'"},
      {"merge to missing token", [](nlohmann::json& j) { j["model"]["merges"].push_back("zzq qqz"); }, "not in the vocabulary"},
      {"invalid regex", [](nlohmann::json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}}; }, "invalid regex"},
      {"wrong field type", [](nlohmann::json& j) { j["model"]["vocab"] = 5; }, "BPE.vocab must be an object"},
      {"vocab id type", [](nlohmann::json& j) { j["model"]["vocab"]["hello"] = "x"; }, "is not an integer"},
      {"vocab id far out", [](nlohmann::json& j) { j["model"]["vocab"]["hello"] = 2000000000; }, "id 2000000000 is far beyond"},
      {"bad behavior", [](nlohmann::json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}}; }, "unknown split behavior"},
      {"added token type", [](nlohmann::json& j) { j["added_tokens"][0]["content"] = 3; }, "content must be a string"},
      {"no model", [](nlohmann::json& j) { j.erase("model"); }, "missing field 'model'"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = base;
    c.mutate(j);
    auto t = Tokenizer::FromJson(j.dump());
    ASSERT_FALSE(t.ok()) << c.what;
    EXPECT_EQ(t.status().code(), StatusCode::kCorrupt) << c.what;
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos) << c.what << ": " << t.status().message();
  }
  auto t = Tokenizer::FromJson("{not json");
  EXPECT_FALSE(t.ok());
  auto m = Tokenizer::Load(Dir("bert-wordpiece") + "/tokenizer_config.json");
  EXPECT_FALSE(m.ok());
}

TEST(Tokenizer, CorruptSentencePieceModelIsAnError) {
  std::string tmp = test::MakeTempDir("tok_spm");
  std::ofstream(tmp + "/tokenizer.model") << "this is not a protobuf";
  auto t = Tokenizer::Load(tmp);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("not a SentencePiece model"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace accel
