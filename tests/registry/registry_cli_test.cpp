// `accel models` and `accel classify` as a user runs them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {

TEST(ModelsCli, ListsAndFilters) {
  auto all = test::RunCli("models --json");
  ASSERT_EQ(all.exit_code, 0);
  auto j = nlohmann::json::parse(all.out, nullptr, false);
  ASSERT_TRUE(j.is_array());
  EXPECT_GE(j.size(), 300u);
  auto audio = nlohmann::json::parse(test::RunCli("models --family audio --json").out, nullptr, false);
  ASSERT_TRUE(audio.is_array());
  EXPECT_GT(audio.size(), 10u);
  for (const auto& e : audio) EXPECT_EQ(e["family"], "audio");
  auto key = test::RunCli("models --key");
  EXPECT_NE(key.out.find("13 of"), std::string::npos) << key.out;
  auto supported = nlohmann::json::parse(test::RunCli("models --supported --json").out, nullptr, false);
  for (const auto& e : supported) EXPECT_EQ(e["support"], "supported");
  auto bad = test::RunCli("models --family nonsense");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("accel: --family 'nonsense'"), std::string::npos);
}

TEST(ClassifyCli, FolderWithWeightsJson) {
  auto r = test::RunCli("classify " + test::DataDir() + "/registry/bert-tiny --json --batch 2 --seq 16");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["family"], "text-embedding");
  EXPECT_EQ(j["template"], "bert");
  EXPECT_EQ(j["parameters"], 23392);
  EXPECT_EQ(j["parameters_source"], "safetensors headers (exact)");
  EXPECT_EQ(j["memory"][0]["dtype"], "f32");
  EXPECT_EQ(j["memory"][0]["weights_bytes"], 23392 * 4);
}

TEST(ClassifyCli, TextAndBadInput) {
  auto r = test::RunCli("classify " + test::DataDir() + "/registry/configs/whisper-tiny.json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("family:      audio / speech-seq2seq"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("evidence:"), std::string::npos);
  auto missing = test::RunCli("classify /nonexistent/model");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.out.rfind("accel: ", 0), 0u) << missing.out;
  auto dtype = test::RunCli("classify " + test::DataDir() + "/registry/bert-tiny --dtype q2_k");
  EXPECT_EQ(dtype.exit_code, 2);
  EXPECT_NE(dtype.out.find("q2_k"), std::string::npos);
}

}  // namespace
}  // namespace accel
