// Every decoder fixture the llama and gpt2 templates claim verifies through the CLI (logits
// and greedy generate.output_ids), and a perturbed weight makes verification fail.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "formats/safetensors.h"
#include "test_util.h"

namespace accel {
namespace {

class DecoderFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(DecoderFixture, VerifiesLogitsAndGreedyIds) {
  auto r = test::RunCli("verify " + test::ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("generate.output_ids"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Llama, DecoderFixture,
                         ::testing::Values("llama-tiny", "llama-tiny-gqa", "qwen2-tiny", "qwen2-tiny-tied", "mistral-tiny",
                                           "qwen3-tiny", "gemma-tiny", "phi3-tiny"));
INSTANTIATE_TEST_SUITE_P(Gpt, DecoderFixture,
                         ::testing::Values("gpt2-tiny", "gpt2-tiny-legacy", "gpt_neox-tiny", "opt-tiny", "gptj-tiny",
                                           "bloom-tiny", "falcon-tiny"));

// Copies a fixture and adds `delta` to the first float of `tensor`.
std::string PerturbedCopy(const std::string& fixture, const std::string& tensor, float delta) {
  namespace fs = std::filesystem;
  const std::string dir = test::MakeTempDir("perturb");
  for (const auto& e : fs::directory_iterator(test::ModelDir(fixture))) fs::copy(e.path(), dir + "/" + e.path().filename().string());
  auto file = SafetensorsFile::Open(dir + "/model.safetensors");
  EXPECT_TRUE(file.ok());
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, entry] : (*file)->entries()) {
    Tensor t = (*file)->Get(name)->Clone();
    if (name == tensor) {
      for (size_t i = 0; i < std::min<size_t>(t.numel(), 16); ++i) t.data<float>()[i] += delta;
    }
    tensors.emplace_back(name, std::move(t));
  }
  file->reset();
  fs::remove(dir + "/model.safetensors");
  EXPECT_TRUE(WriteSafetensors(dir + "/model.safetensors", tensors).ok());
  return dir;
}

TEST(DecoderPerturbed, LlamaWeightChangeFailsVerification) {
  const std::string dir = PerturbedCopy("llama-tiny", "model.layers.1.self_attn.k_proj.weight", 0.5f);
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::filesystem::remove_all(dir);
}

TEST(DecoderPerturbed, BloomWeightChangeFailsVerification) {
  const std::string dir = PerturbedCopy("bloom-tiny", "transformer.h.0.self_attention.query_key_value.weight", 0.5f);
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accel
