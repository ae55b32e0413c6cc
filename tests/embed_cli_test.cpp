// accel embed on a BERT folder with its own tokenizer: the CLI's embedding equals the model's
// last_hidden_state pooled by hand, is unit-norm, and bad input exits 2.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel {
namespace {
namespace fs = std::filesystem;

std::string MakeBertWithTokenizer() {
  std::string dir = test::MakeTempDir("embed");
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(test::ModelDir("bert-tiny") + "/" + f, dir + "/" + f);
  fs::copy_file(test::DataDir() + "/test_tokenizers/bert-tiny-wordpiece.json", dir + "/tokenizer.json");
  return dir;
}

TEST(EmbedCli, MatchesHandPooledModelOutputAndIsUnitNorm) {
  std::string dir = MakeBertWithTokenizer();
  auto r = test::RunCli("embed --model " + dir + " --json --pooling mean 'Hello worlds' 'the cat sat'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["embeddings"].size(), 2u);
  std::vector<float> first = j["embeddings"][0]["embedding"].get<std::vector<float>>();
  double norm = 0;
  for (float v : first) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);

  // The same by hand: [CLS] hello world ##s [SEP] padded to the longer text (5 tokens).
  LoadOptions options;
  options.device = "cpu";
  auto model = LoadedModel::Load(dir, options).value();
  Tensor ids = Tensor::Zeros(DType::kI64, {1, 5}).value(), mask = Tensor::Zeros(DType::kI64, {1, 5}).value();
  int64_t want_ids[] = {2, 4, 5, 6, 3};
  for (int i = 0; i < 5; ++i) ids.data<int64_t>()[i] = want_ids[i], mask.data<int64_t>()[i] = 1;
  auto out = model->Run({{"input_ids", ids}, {"attention_mask", mask}}).value();
  const Tensor& h = out.at("last_hidden_state");
  std::vector<double> mean(h.dim(2), 0.0);
  for (int t = 0; t < 5; ++t)
    for (int64_t d = 0; d < h.dim(2); ++d) mean[d] += h.data<float>()[t * h.dim(2) + d] / 5.0;
  double n = 0;
  for (double v : mean) n += v * v;
  for (size_t d = 0; d < mean.size(); ++d) EXPECT_NEAR(first[d], mean[d] / std::sqrt(n), 1e-5) << d;

  auto cls = test::RunCli("embed --model " + dir + " --pooling cls --no-normalize hello");
  EXPECT_EQ(cls.exit_code, 0) << cls.out;
  fs::remove_all(dir);
}

TEST(EmbedCli, BadInputExits2) {
  std::string dir = MakeBertWithTokenizer();
  EXPECT_EQ(test::RunCli("embed --model " + dir).exit_code, 2);
  EXPECT_EQ(test::RunCli("embed --model " + dir + " --pooling max hello").exit_code, 2);
  EXPECT_EQ(test::RunCli("embed --model " + dir + " --image x.png").exit_code, 2);
  fs::remove(dir + "/tokenizer.json");
  auto r = test::RunCli("embed --model " + dir + " hello");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("tokenizer"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
