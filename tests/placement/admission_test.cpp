// Memory admission: a model estimated not to fit the budget is refused before loading, with the
// numbers, by generate, embed, serve, the C API and Python alike (they share AdmitModel).
#include "placement/admission.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace accel
