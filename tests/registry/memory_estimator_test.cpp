// Parameter counts (config estimate vs safetensors headers, and published sizes of real
// models), memory at a workload, and hostile configs.
#include <gtest/gtest.h>

#include "registry/memory_estimator.h"
#include "test_util.h"

namespace accel::registry {
namespace {

HfConfig Config(const std::string& json) {
  auto c = HfConfig::Parse(json, "config.json");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

TEST(Params, Llama2_7BConfigMatchesPublishedCount) {
  auto p = ParamsFromConfig(Config(R"({"model_type":"llama","hidden_size":4096,"intermediate_size":11008,
      "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"vocab_size":32000,
      "hidden_act":"silu","max_position_embeddings":4096,"rope_theta":10000.0,"tie_word_embeddings":false})"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_NEAR(static_cast<double>(p->params), 6738415616.0, 6738415616.0 * 0.001);
}

TEST(Params, BertBaseConfigMatchesPublishedCount) {
  auto p = ParamsFromConfig(Config(R"({"model_type":"bert","hidden_size":768,"intermediate_size":3072,
      "num_hidden_layers":12,"num_attention_heads":12,"vocab_size":30522,"max_position_embeddings":512,
      "type_vocab_size":2,"hidden_act":"gelu"})"));
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(static_cast<double>(p->params), 109482240.0, 109482240.0 * 0.02);
}

TEST(Params, ExactFromSafetensorsAndCloseEstimateFromConfig) {
  auto ev = GatherEvidence(test::DataDir() + "/registry/bert-tiny");
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  auto exact = CountParams(*ev);
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  EXPECT_EQ(exact->source, "safetensors headers (exact)");
  EXPECT_EQ(exact->params, 23392);
  EXPECT_EQ(exact->bytes_by_dtype.at("f32"), 23392 * 4);
  auto estimate = ParamsFromConfig(ev->config);
  ASSERT_TRUE(estimate.ok());
  EXPECT_NEAR(static_cast<double>(estimate->params), 23392.0, 23392.0 * 0.15);
}

TEST(Params, FixtureConfigsEstimateWithinTenPercentOfTheirWeights) {
  // Exact counts from each fixture's model.safetensors (tied weights are absent from the file).
  struct Case {
    const char* name;
    int64_t exact;
  } cases[] = {{"llama-tiny-gqa", 137024}};
  for (const auto& c : cases) {
    auto ev = GatherEvidence(test::DataDir() + "/registry/configs/" + c.name + ".json");
    ASSERT_TRUE(ev.ok());
    auto p = CountParams(*ev);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->source, "config.json estimate");
    EXPECT_NEAR(static_cast<double>(p->params), static_cast<double>(c.exact), c.exact * 0.1) << c.name;
  }
}

TEST(Params, CompositeConfigsSumTheirParts) {
  for (const char* name : {"clip-tiny", "llava-tiny", "whisper-tiny", "t5-tiny", "vit-tiny", "gpt2-tiny"}) {
    auto ev = GatherEvidence(test::DataDir() + "/registry/configs/" + name + ".json");
    ASSERT_TRUE(ev.ok());
    auto p = ParamsFromConfig(ev->config);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status().message();
    EXPECT_GT(p->params, 1000) << name;
  }
}

TEST(Params, HostileConfigsAreErrorsNamingTheKey) {
  auto expect_error = [](const std::string& json, const char* fragment) {
    auto p = ParamsFromConfig(Config(json));
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_NE(p.status().message().find(fragment), std::string::npos) << p.status().message();
  };
  expect_error(R"({"hidden_size":64,"num_hidden_layers":1000000000000})", "'num_hidden_layers' = 1000000000000 is out of range");
  expect_error(R"({"hidden_size":-64,"num_hidden_layers":2})", "'hidden_size' = -64");
  expect_error(R"({"hidden_size":"big","num_hidden_layers":2})", "'hidden_size' must be an integer");
  expect_error(R"({"num_hidden_layers":2})", "missing required key 'hidden_size'");
  expect_error(R"({"hidden_size":64})", "missing required key 'num_hidden_layers'");
  expect_error(R"({"hidden_size":64,"num_hidden_layers":2,"vocab_size":18446744073709551615})", "'vocab_size'");
  expect_error(R"({"text_config":5})", "'text_config' must be an object");
  // Every dimension at its maximum: an error, not an overflow.
  expect_error(R"({"hidden_size":1048576,"num_hidden_layers":10000,"intermediate_size":8388608,"vocab_size":134217728,
      "num_local_experts":4096})", "10^14");
}

TEST(Memory, WeightsActivationsAndKvCache) {
  HfConfig cfg = Config(R"({"model_type":"llama","hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,
      "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,"hidden_act":"silu","rope_theta":1e4})");
  auto p = ParamsFromConfig(cfg);
  ASSERT_TRUE(p.ok());
  auto f32 = EstimateMemory(cfg, *p, DType::kF32, 1, 4096, true);
  auto q4 = EstimateMemory(cfg, *p, DType::kQ4_0, 1, 4096, true);
  auto bf16 = EstimateMemory(cfg, *p, DType::kBF16, 1, 4096, true);
  ASSERT_TRUE(f32.ok() && q4.ok() && bf16.ok());
  EXPECT_EQ(f32->weights_bytes, p->params * 4);
  EXPECT_NEAR(static_cast<double>(q4->weights_bytes), p->params * 18.0 / 32.0, 1.0);
  // K and V: 2 x 32 layers x 4096 tokens x 8 kv heads x 128 dims x 2 bytes = 512 MiB at bf16.
  EXPECT_EQ(bf16->kv_cache_bytes, 512LL << 20);
  EXPECT_EQ(f32->kv_cache_bytes, 1024LL << 20);
  EXPECT_GT(f32->activation_bytes, 0);
  EXPECT_EQ(f32->total_bytes, f32->weights_bytes + f32->activation_bytes + f32->kv_cache_bytes);
  auto encoder = EstimateMemory(cfg, *p, DType::kF32, 1, 128, false);
  EXPECT_EQ(encoder->kv_cache_bytes, 0);
  EXPECT_FALSE(EstimateMemory(cfg, *p, DType::kF32, 0, 128, false).ok());
  EXPECT_FALSE(EstimateMemory(cfg, *p, DType::kF32, 1, -5, false).ok());
}

TEST(Memory, CheckFitsRefusesWithBreakdown) {
  MemoryEstimate e;
  e.weights_bytes = 10LL << 30;
  e.activation_bytes = 1LL << 30;
  e.kv_cache_bytes = 2LL << 30;
  e.total_bytes = 13LL << 30;
  EXPECT_TRUE(CheckFits(e, 16LL << 30, "cpu").ok());
  Status s = CheckFits(e, 8LL << 30, "cpu");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOutOfMemory);
  EXPECT_NE(s.message().find("needs 13.0 GiB"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("cpu has 8.0 GiB"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace accel::registry
