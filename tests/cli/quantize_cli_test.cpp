// accel quantize (issue 18): HF folders and GGUF files written as GGUF in llama-quantize's
// types; the result loads and generates, re-quantizing keeps the embedded tokenizer, a folder's
// tokenizer files go beside the output, and bad requests are one line, exit 2, no partial file.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "generation/llama_tiny_gguf.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
using test::RunCli;

bool Has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

std::vector<int64_t> Ids(const std::string& out) {
  std::istringstream first_line(out.substr(0, out.find('\n')));
  std::vector<int64_t> ids;
  for (int64_t id; first_line >> id;) ids.push_back(id);
  return ids;
}

TEST(QuantizeCli, FolderToQ8_0GeneratesTheReferenceStart) {
  const std::string dir = test::MakeTempDir("quantize");
  auto r = RunCli("quantize -m " + test::ModelDir("llama-tiny") + " --type q8_0 -o " + dir + "/tiny-q8_0.gguf");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "tiny-q8_0.gguf (q8_0,")) << r.out;
  auto file = GgufFile::Open(dir + "/tiny-q8_0.gguf");
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file.value()->Get("blk.0.attn_q.weight")->dtype(), DType::kQ8_0);
  EXPECT_EQ(file.value()->Get("blk.0.attn_norm.weight")->dtype(), DType::kF32);
  const auto ref = test::LoadGreedyReference("llama-tiny");
  std::string prompt;
  for (int64_t id : ref.prompts[0]) prompt += (prompt.empty() ? "" : ",") + std::to_string(id);
  auto g = RunCli("generate -m " + dir + "/tiny-q8_0.gguf --prompt-ids " + prompt + " -n 4 -t 1");
  ASSERT_EQ(g.exit_code, 0) << g.out;
  // 8-bit weights keep llama-tiny's first greedy steps (measured: the first 6 of 8).
  EXPECT_EQ(Ids(g.out), std::vector<int64_t>(ref.new_ids[0].begin(), ref.new_ids[0].begin() + 4)) << g.out;
  fs::remove_all(dir);
}

TEST(QuantizeCli, RequantizedGgufKeepsItsTokenizerAndTakesTheNewType) {
  const std::vector<std::pair<std::string, nlohmann::json>> tokenizer = {
      {"tokenizer.ggml.model", "gpt2"},
      {"tokenizer.ggml.tokens", {"a", "b", "c"}},
      {"tokenizer.ggml.token_type", {1, 1, 3}},
      {"tokenizer.ggml.merges", {"a b"}},
      {"tokenizer.chat_template", "{{ messages[0]['content'] }}"}};
  const std::string source = test_gguf::WriteLlamaTinyGguf(DType::kF16, false, tokenizer);
  const std::string out = fs::path(source).parent_path().string() + "/requantized.gguf";
  auto r = RunCli("quantize -m " + source + " --type Q4_0 -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto file = GgufFile::Open(out);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file.value()->Get("blk.1.ffn_down.weight")->dtype(), DType::kQ4_0);
  for (const auto& [key, value] : tokenizer) EXPECT_EQ(file.value()->metadata()[key], value) << key;
  EXPECT_EQ(file.value()->metadata_type("tokenizer.ggml.tokens"), 9);  // an array, as written
  fs::remove_all(fs::path(source).parent_path());
}

// IQ4_XS is a --type; llama-tiny's rows (64, 128) are not whole 256s, so its projections fall
// back to Q8_0 while the file says IQ4_XS (LLAMA_FTYPE_MOSTLY_IQ4_XS, 30), as llama-quantize does.
TEST(QuantizeCli, Iq4XsIsAType) {
  const std::string dir = test::MakeTempDir("quantize-iq4xs");
  auto r = RunCli("quantize -m " + test::ModelDir("llama-tiny") + " --type IQ4_XS -o " + dir + "/tiny-iq4_xs.gguf");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto file = GgufFile::Open(dir + "/tiny-iq4_xs.gguf");
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file.value()->metadata()["general.file_type"], 30);
  EXPECT_EQ(file.value()->Get("blk.0.attn_q.weight")->dtype(), DType::kQ8_0);
  fs::remove_all(dir);
}

TEST(QuantizeCli, FolderTokenizerGoesBesideTheOutput) {
  const std::string model = test::LlamaTinyWithWordTokenizer("quantize_tok");
  const std::string dir = test::MakeTempDir("quantize_out");
  auto r = RunCli("quantize -m " + model + " --type q4_k_m -o " + dir + "/m.gguf");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/tokenizer.json"));
  auto g = RunCli("generate -m " + dir + "/m.gguf -p 'w1 w192 w108' -n 3 -t 1 --json");
  ASSERT_EQ(g.exit_code, 0) << g.out;
  EXPECT_TRUE(Has(g.out, "\"text\"")) << g.out;
  fs::remove_all(dir);
  fs::remove_all(fs::path(model).parent_path());
}

TEST(QuantizeCli, BadRequestsAreOneLineAndLeaveNoFile) {
  const std::string dir = test::MakeTempDir("quantize_bad");
  auto r = RunCli("quantize -m " + test::ModelDir("llama-tiny") + " --type q9_9 -o " + dir + "/x.gguf");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.out, "unknown quantization type 'q9_9' (types: f32, f16, bf16, q8_0, q4_0")) << r.out;
  r = RunCli("quantize -m " + test::ModelDir("bert-tiny") + " --type q8_0 -o " + dir + "/x.gguf");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.out, "GGUF export of model_type 'bert' (supported: llama, mistral, qwen2, qwen3)")) << r.out;
  r = RunCli("quantize -m " + test::ModelDir("llama-tiny") + " --type q8_0 -o " + dir + "/x.bin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.out, "--out must name a .gguf file")) << r.out;
  r = RunCli("quantize -m " + dir + "/missing.gguf --type q8_0 -o " + dir + "/x.gguf");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(fs::is_empty(dir)) << "a failed quantize left a file";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
