// Memory admission: a model estimated not to fit the budget is refused before loading, with the
// numbers, by generate, embed, serve, the C API and Python alike (they share AdmitModel).
#include "placement/admission.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats/gguf_writer.h"
#include "generation/llama_tiny_gguf.h"
#include "test_util.h"

namespace accel {
namespace {

// A LLaMA-70B-shaped config.json with no weights: only the estimate can say it does not fit.
std::string Llama70bConfigOnly() {
  std::string dir = test::MakeTempDir("admission") + "/llama-70b";
  std::filesystem::create_directories(dir);
  nlohmann::json c = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 8192},
                      {"intermediate_size", 28672}, {"num_hidden_layers", 80}, {"num_attention_heads", 64},
                      {"num_key_value_heads", 8}, {"vocab_size", 128256}, {"max_position_embeddings", 8192},
                      {"torch_dtype", "bfloat16"}, {"tie_word_embeddings", false}};
  std::ofstream(dir + "/config.json") << c.dump();
  return dir;
}

TEST(Admission, SmallModelFitsAndHugeOneIsRefusedWithTheNumbers) {
  EXPECT_TRUE(AdmitModel({test::ModelDir("llama-tiny"), "1G"}).ok());
  Status s = AdmitModel({test::ModelDir("llama-tiny"), "1K"});
  ASSERT_EQ(s.code(), StatusCode::kOutOfMemory) << s.message();
  EXPECT_NE(s.message().find("llama-tiny"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("weights"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1.0 KiB"), std::string::npos) << s.message();

  Status huge = AdmitModel({Llama70bConfigOnly(), "64G"});
  ASSERT_EQ(huge.code(), StatusCode::kOutOfMemory) << huge.message();
  EXPECT_NE(huge.message().find("GiB"), std::string::npos) << huge.message();
}

TEST(Admission, BadLimitIsAnErrorAndUnknownModelsAreLeftToTheLoader) {
  EXPECT_EQ(AdmitModel({test::ModelDir("llama-tiny"), "lots"}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(AdmitModel({"/nonexistent/model", "1K"}).ok());  // the loader says what is missing
}

TEST(Admission, GenerateAndEmbedRefuseBeforeLoading) {
  const std::string big = Llama70bConfigOnly();
  auto r = test::RunCli("generate -m " + big + " --prompt-ids 1 -n 1 --memory-limit 64G");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("needs"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("safetensors"), std::string::npos) << r.out;  // refused before looking for weights

  auto e = test::RunCli("embed -m " + test::ModelDir("bert-tiny") + " hello --memory-limit 1K");
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.out.find("1.0 KiB"), std::string::npos) << e.out;
  auto ok = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,2 -n 2 --memory-limit 1G");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

// A GGUF whose metadata claims 4000 layers of width 65536 (a KV cache of terabytes) over a few
// bytes of tensors: the header alone says it cannot fit.
std::string HugeClaimGguf() {
  const std::string path = test::MakeTempDir("admission") + "/claims-huge.gguf";
  std::vector<std::pair<std::string, nlohmann::json>> md = {
      {"general.architecture", "llama"},        {"llama.embedding_length", 65536},
      {"llama.block_count", 4000},              {"llama.feed_forward_length", 1 << 18},
      {"llama.context_length", 1 << 20},        {"llama.attention.head_count", 512},
      {"llama.attention.head_count_kv", 512}};
  EXPECT_TRUE(WriteGguf(path, md, {{"token_embd.weight", test::RandomTensor({8, 4}, 1)}}).ok());
  return path;
}

TEST(Admission, GgufIsEstimatedFromItsHeader) {
  const std::string tiny = test_gguf::WriteLlamaTinyGguf(DType::kQ8_0);
  EXPECT_TRUE(AdmitModel({tiny, "1G"}).ok());
  Status small = AdmitModel({tiny, "1K"});
  ASSERT_EQ(small.code(), StatusCode::kOutOfMemory) << small.message();
  EXPECT_NE(small.message().find(tiny), std::string::npos) << small.message();
  EXPECT_NE(small.message().find("weights"), std::string::npos) << small.message();

  // Context 4096 (the claimed 1 M is clamped, as for folders): 2 x 4000 layers x 4096 tokens x
  // 65536 (512 heads of 128) x 4 bytes = 7.8 TiB of KV cache.
  const std::string huge = HugeClaimGguf();
  Status s = AdmitModel({huge, "64G"});
  ASSERT_EQ(s.code(), StatusCode::kOutOfMemory) << s.message();
  EXPECT_NE(s.message().find("KV cache 7.8 TiB"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("64.0 GiB"), std::string::npos) << s.message();

  auto r = test::RunCli("generate -m " + huge + " --prompt-ids 1 -n 1 --memory-limit 64G");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("KV cache 7.8 TiB"), std::string::npos) << r.out;
  // A file that is not GGUF is left to the loader, which says what is wrong with it.
  const std::string junk = test::MakeTempDir("admission") + "/junk.gguf";
  std::ofstream(junk) << "not gguf";
  EXPECT_TRUE(AdmitModel({junk, "1K"}).ok());
}

}  // namespace
}  // namespace accel
