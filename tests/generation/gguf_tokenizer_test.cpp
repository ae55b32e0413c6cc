// The tokenizer embedded in GGUF metadata: GGUF files whose tokenizer.ggml.* keys are written
// from the bundled tokenizer fixtures (the way llama.cpp's converter writes them) must encode
// the fixtures' texts to the same ids/tokens as Hugging Face `tokenizers` did (expected.jsonl),
// and decode them to the same text. `accel generate` uses that tokenizer and the embedded
// chat template. Bad metadata is a clear error.
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include "formats/gguf.h"
#include "formats/gguf_tokenizer.h"
#include "generation/llama_tiny_gguf.h"
#include "test_util.h"

namespace accel {
namespace {
using nlohmann::json;
using Metadata = std::vector<std::pair<std::string, json>>;

std::string TokDir(const std::string& name) { return test::DataDir() + "/tokenizers/" + name; }

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string WriteTokenizerGguf(const Metadata& md, const std::string& tag) {
  const std::string path = test::MakeTempDir("gguf-tok") + "/" + tag + ".gguf";
  Status s = WriteGguf(path, md, {}, {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                      "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"});
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

std::unique_ptr<Tokenizer> LoadFromGguf(const std::string& path) {
  auto file = GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return nullptr;
  auto tok = TokenizerFromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  return tok.ok() ? std::move(*tok) : nullptr;
}

// Compares single-text records (ids, tokens, decoded text); returns how many were compared.
size_t ExpectMatchesGoldens(const Tokenizer& tok, const std::string& jsonl) {
  std::ifstream in(jsonl);
  std::string line;
  size_t compared = 0;
  while (std::getline(in, line)) {
    json rec = json::parse(line);
    if (rec.contains("text_pair")) continue;
    const std::string text = rec["text"];
    const bool special = rec["add_special_tokens"];
    auto enc = tok.Encode(text, special);
    EXPECT_TRUE(enc.ok()) << enc.status().message();
    if (!enc.ok()) continue;
    EXPECT_EQ(enc->ids, rec["ids"].get<std::vector<int64_t>>()) << "text: " << text << " special " << special;
    EXPECT_EQ(enc->tokens, rec["tokens"].get<std::vector<std::string>>()) << "text: " << text;
    auto decoded = tok.Decode(enc->ids, true);
    EXPECT_TRUE(decoded.ok());
    if (decoded.ok()) { EXPECT_EQ(*decoded, rec["decoded"].get<std::string>()) << "text: " << text; }
    ++compared;
  }
  return compared;
}

// A byte-level BPE tokenizer.json as llama.cpp's converter writes a "gpt2" vocabulary (added
// tokens past the model's vocabulary are appended at their ids).
Metadata Gpt2Metadata(const std::string& fixture = "gpt2-bytelevel-bpe", const std::string& pre = "default",
                      const std::string& bos = "<|endoftext|>", bool add_bos = false) {
  json tj = ReadJson(TokDir(fixture) + "/tokenizer.json");
  const json& vocab = tj["model"]["vocab"];
  size_t size = vocab.size();
  for (const auto& a : tj["added_tokens"]) size = std::max(size, a["id"].get<size_t>() + 1);
  std::vector<std::string> tokens(size);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) tokens.at(it.value().get<size_t>()) = it.key();
  std::vector<int64_t> types(tokens.size(), 1);
  for (const auto& a : tj["added_tokens"]) {
    tokens.at(a["id"].get<size_t>()) = a["content"];
    types.at(a["id"].get<size_t>()) = a["special"].get<bool>() ? 3 : 4;
  }
  std::vector<std::string> merges;
  for (const auto& m : tj["model"]["merges"])
    merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  const int64_t bos_id = std::find(tokens.begin(), tokens.end(), bos) - tokens.begin();
  return {{"tokenizer.ggml.model", "gpt2"},        {"tokenizer.ggml.pre", pre},
          {"tokenizer.ggml.tokens", tokens},       {"tokenizer.ggml.token_type", types},
          {"tokenizer.ggml.merges", merges},       {"tokenizer.ggml.bos_token_id", bos_id},
          {"tokenizer.ggml.eos_token_id", bos_id}, {"tokenizer.ggml.add_bos_token", add_bos}};
}

// llama2-spm-bpe/tokenizer.model as llama.cpp's converter writes a "llama" vocabulary: pieces,
// scores and types straight from SentencePiece, no merges.
Metadata LlamaMetadata(size_t keep_tokens = 0) {
  sentencepiece::SentencePieceProcessor sp;
  EXPECT_TRUE(sp.Load(TokDir("llama2-spm-bpe") + "/tokenizer.model").ok());
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<int64_t> types;
  const int n = keep_tokens ? static_cast<int>(keep_tokens) : sp.GetPieceSize();
  for (int i = 0; i < n; ++i) {
    tokens.push_back(sp.IdToPiece(i));
    scores.push_back(sp.GetScore(i));
    types.push_back(sp.IsUnknown(i) ? 2 : sp.IsControl(i) ? 3 : sp.IsUnused(i) ? 5 : sp.IsByte(i) ? 6 : 1);
  }
  return {{"tokenizer.ggml.model", "llama"},       {"tokenizer.ggml.tokens", tokens},
          {"tokenizer.ggml.scores", scores},       {"tokenizer.ggml.token_type", types},
          {"tokenizer.ggml.bos_token_id", sp.bos_id()}, {"tokenizer.ggml.eos_token_id", sp.eos_id()},
          {"tokenizer.ggml.unknown_token_id", sp.unk_id()}, {"tokenizer.ggml.add_bos_token", true},
          {"tokenizer.ggml.add_eos_token", false}};
}

json MetadataObject(const Metadata& md) {
  json o = json::object();
  for (const auto& [k, v] : md) o[k] = v;
  return o;
}

TEST(GgufTokenizer, Gpt2VocabularyReproducesHfGoldens) {
  const std::string path = WriteTokenizerGguf(Gpt2Metadata(), "gpt2");
  auto tok = LoadFromGguf(path);
  ASSERT_TRUE(tok);
  EXPECT_EQ(ExpectMatchesGoldens(*tok, TokDir("gpt2-bytelevel-bpe") + "/expected.jsonl"), 128u);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufTokenizer, Llama3VocabularyWithLlamaBpePreTokenizerReproducesHfGoldens) {
  const std::string path =
      WriteTokenizerGguf(Gpt2Metadata("llama3-bpe", "llama-bpe", "<|begin_of_text|>", true), "llama3");
  auto tok = LoadFromGguf(path);
  ASSERT_TRUE(tok);
  EXPECT_EQ(ExpectMatchesGoldens(*tok, TokDir("llama3-bpe") + "/expected.jsonl"), 128u);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufTokenizer, LlamaVocabularyWithMergesFromScoresReproducesHfGoldens) {
  const std::string path = WriteTokenizerGguf(LlamaMetadata(), "llama");
  auto tok = LoadFromGguf(path);
  ASSERT_TRUE(tok);
  // llama2-bpe-metaspace is the HF (legacy=False) conversion of this same tokenizer.model.
  EXPECT_EQ(ExpectMatchesGoldens(*tok, TokDir("llama2-bpe-metaspace") + "/expected.jsonl"), 128u);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufTokenizer, DerivedMergesRankLikeTheHfConversion) {
  // The merges derived from scores must give every merge of the HF conversion the same
  // relative order (HF may list extra merges, which never apply, so compare in its order).
  auto doc = GgufTokenizerJson(MetadataObject(LlamaMetadata()));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  json hf = ReadJson(TokDir("llama2-bpe-metaspace") + "/tokenizer.json");
  std::map<std::pair<std::string, std::string>, size_t> rank;
  const json& ours = (*doc)["model"]["merges"];
  for (size_t i = 0; i < ours.size(); ++i) rank[{ours[i][0], ours[i][1]}] = i;
  size_t last = 0, found = 0;
  for (const auto& m : hf["model"]["merges"]) {
    auto it = rank.find({m[0], m[1]});
    ASSERT_NE(it, rank.end()) << m.dump();
    EXPECT_GE(it->second, last) << m.dump();
    last = it->second;
    ++found;
  }
  EXPECT_EQ(found, hf["model"]["merges"].size());
}

void ExpectError(const json& md, const std::string& needle) {
  auto r = GgufTokenizerJson(md);
  ASSERT_FALSE(r.ok()) << "accepted metadata that should fail: " << needle;
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(GgufTokenizer, BadMetadataIsAClearError) {
  json llama = MetadataObject(LlamaMetadata(300));
  json gpt2 = MetadataObject(Gpt2Metadata());
  {
    json md = llama;
    md["tokenizer.ggml.scores"].erase(md["tokenizer.ggml.scores"].size() - 1);
    ExpectError(md, "tokenizer.ggml.scores has 299 entries for 300 tokens");
  }
  {
    json md = llama;
    md["tokenizer.ggml.token_type"].push_back(1);
    ExpectError(md, "tokenizer.ggml.token_type has 301 entries");
  }
  {
    json md = gpt2;
    md["tokenizer.ggml.merges"].push_back("Ġzzqq xx");
    ExpectError(md, "names 'Ġzzqq', which is not in tokenizer.ggml.tokens");
  }
  {
    json md = gpt2;
    md["tokenizer.ggml.merges"].push_back("nospace");
    ExpectError(md, "is not two tokens separated by a space");
  }
  {
    json md = gpt2;
    md["tokenizer.ggml.model"] = "rwkv";
    ExpectError(md, "tokenizer.ggml.model 'rwkv' is not supported");
  }
  {
    json md = gpt2;
    md["tokenizer.ggml.pre"] = "some-future-regex";
    ExpectError(md, "pre-tokenizer 'some-future-regex'");
  }
  {
    json md = llama;
    md["tokenizer.ggml.bos_token_id"] = 300;
    ExpectError(md, "tokenizer.ggml.bos_token_id = 300 is outside the vocabulary");
  }
  {
    json md = llama;
    md.erase("tokenizer.ggml.scores");
    ExpectError(md, "needs tokenizer.ggml.scores");
  }
  {
    json md = llama;
    md["tokenizer.ggml.tokens"][5] = 7;
    ExpectError(md, "non-string");
  }
  ExpectError(json::object(), "tokenizer.ggml.model is missing");
}

// llama-tiny (vocab 256) with the first 256 pieces of the llama2 SentencePiece model: <unk>,
// <s>, </s> and byte tokens <0x00>..<0xFC>, so ASCII text encodes through byte fallback.
std::string WriteLlamaTinyWithTokenizer(const std::string& chat_template) {
  Metadata md = LlamaMetadata(256);
  md.erase(std::remove_if(md.begin(), md.end(),
                          [](const auto& kv) { return kv.first == "tokenizer.ggml.bos_token_id" || kv.first == "tokenizer.ggml.eos_token_id"; }),
           md.end());  // the writer already sets them (1 and 2, the same ids)
  if (!chat_template.empty()) md.emplace_back("tokenizer.chat_template", chat_template);
  return test_gguf::WriteLlamaTinyGguf(DType::kF32, false, md);
}

json JsonLine(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') return json::parse(line);
  ADD_FAILURE() << "no JSON line in: " << out;
  return json::object();
}

TEST(GgufTokenizer, GenerateTokenizesTextPromptsWithTheEmbeddedTokenizer) {
  const std::string path = WriteLlamaTinyWithTokenizer("");
  // "Hi": Metaspace gives "▁Hi"; no merges among byte tokens, so bytes E2 96 81 48 69 (+3), after <s>.
  const std::vector<int64_t> expected_prompt = {1, 229, 153, 132, 75, 108};
  auto by_ids = test::RunCli("generate -m " + path + " --prompt-ids 1,229,153,132,75,108 -n 6 --json");
  auto by_text = test::RunCli("generate -m " + path + " -n 6 --json Hi");
  ASSERT_EQ(by_ids.exit_code, 0) << by_ids.out;
  ASSERT_EQ(by_text.exit_code, 0) << by_text.out;
  json a = JsonLine(by_ids.out)["outputs"][0], b = JsonLine(by_text.out)["outputs"][0];
  EXPECT_EQ(b["prompt_ids"].get<std::vector<int64_t>>(), expected_prompt);
  EXPECT_EQ(a["ids"], b["ids"]);
  auto tok = LoadFromGguf(path);
  ASSERT_TRUE(tok);
  auto text = tok->Decode(b["ids"].get<std::vector<int64_t>>(), true);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(b["text"].get<std::string>(), *text);
  // Streaming mode prints the decoded text, then the timings line.
  auto streamed = test::RunCli("generate -m " + path + " -n 6 Hi");
  ASSERT_EQ(streamed.exit_code, 0) << streamed.out;
  EXPECT_NE(streamed.out.find("timings:"), std::string::npos) << streamed.out;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufTokenizer, ChatUsesTheEmbeddedTemplate) {
  const std::string path =
      WriteLlamaTinyWithTokenizer("{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{% endfor %}");
  auto r = test::RunCli("generate -m " + path + " -n 2 --json --chat Hi");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto tok = LoadFromGguf(path);
  ASSERT_TRUE(tok);
  auto expected = tok->Encode("<s>[user] Hi", /*add_special_tokens=*/false);
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->ids.front(), 1);  // the template's BOS string became the BOS token
  EXPECT_EQ(JsonLine(r.out)["outputs"][0]["prompt_ids"].get<std::vector<int64_t>>(), expected->ids);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufTokenizer, BrokenEmbeddedTokenizerFailsTextPromptsCleanly) {
  Metadata md = LlamaMetadata(256);
  md.emplace_back("tokenizer.ggml.pre", "x");  // harmless for llama; break the model kind instead
  for (auto& [k, v] : md)
    if (k == "tokenizer.ggml.model") v = "rwkv";
  md.erase(std::remove_if(md.begin(), md.end(),
                          [](const auto& kv) { return kv.first == "tokenizer.ggml.bos_token_id" || kv.first == "tokenizer.ggml.eos_token_id"; }),
           md.end());
  const std::string path = test_gguf::WriteLlamaTinyGguf(DType::kF32, false, md);
  auto r = test::RunCli("generate -m " + path + " -n 2 Hi");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("tokenizer.ggml.model 'rwkv' is not supported"), std::string::npos) << r.out;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace accel
