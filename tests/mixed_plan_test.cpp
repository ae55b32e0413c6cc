// Mixed precision (formats/mixed_plan.h): the plan's bits per weight stay within the target and
// the written file has them, fused projections share a type, a larger budget never costs
// accuracy, and `accel quantize --mixed auto --target-bpw X` end to end.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/mixed_plan.h"
#include "runtime/loaded_model.h"
#include "synthetic_llama.h"
#include "test_util.h"

namespace accel {
namespace {

double TotalError(const MixedPlan& p) {
  double e = 0;
  for (const auto& r : p.rows) e += r.error;
  return e;
}

// Bits per weight of the projections as the file stores them (tensor sizes from its table).
double FileBpw(const std::string& path) {
  auto f = GgufFile::Open(path).value();
  double bits = 0, n = 0;
  for (const auto& [name, info] : f->tensors()) {
    if (name.find("attn_norm") != std::string::npos || name.find("ffn_norm") != std::string::npos || name == "output_norm.weight" ||
        name == "token_embd.weight")
      continue;
    int64_t elems = 1;
    for (int64_t d : info.shape) elems *= d;
    bits += 8.0 * static_cast<double>(info.size), n += static_cast<double>(elems);
  }
  return bits / n;
}

TEST(MixedPlan, StaysWithinTheTargetAndTheFileAgrees) {
  const std::string dir = test::MakeTempDir("mixed");
  double last_error = 1e30;
  for (double target : {3.0, 4.0, 5.0, 6.5}) {
    HfConfig config = HfConfig::FromJson(nlohmann::json::object(), "x");
    WeightStore ws = test::SyntheticLlamaWeights(&config);
    auto plan = PlanMixedPrecision(ws, target, nullptr, quant::ScaleSearch::kSearch);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    std::set<DType> types;
    for (const auto& r : plan->rows) types.insert(r.type);
    std::printf("target %.2f: plan %.3f bpw, %zu types, summed relative error %.4f\n", target, plan->bpw, types.size(), TotalError(*plan));
    EXPECT_LE(plan->bpw, target);
    // The greedy fill leaves less than one upgrade of the largest group unspent.
    EXPECT_GT(plan->bpw, target - 0.75) << target;
    EXPECT_LT(TotalError(*plan), last_error) << "a larger budget must not cost accuracy";
    last_error = TotalError(*plan);
    for (int l = 0; l < 2; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      EXPECT_EQ(plan->types.at(p + "self_attn.q_proj.weight"), plan->types.at(p + "self_attn.v_proj.weight"));
      EXPECT_EQ(plan->types.at(p + "mlp.gate_proj.weight"), plan->types.at(p + "mlp.up_proj.weight"));
    }
    if (target == 4.0) {
      EXPECT_GE(types.size(), 2u) << "a budget between two types mixes them";
      GgufExportOptions o;
      o.weight_dtype = DType::kQ4_K;
      o.tensor_types = plan->types;
      const std::string path = dir + "/mixed.gguf";
      WeightStore again = test::SyntheticLlamaWeights(&config);
      ASSERT_TRUE(WriteLlamaGguf(path, config, again, o).ok());
      EXPECT_NEAR(FileBpw(path), plan->bpw, 1e-9);
      auto m = LoadedModel::Load(path, LoadOptions("cpu"));
      ASSERT_TRUE(m.ok()) << m.status().message();
      auto r = test::RunCli("generate -m " + path + " --prompt-ids 1,17,200,45 -n 4");
      EXPECT_EQ(r.exit_code, 0) << r.out;
    }
  }
  HfConfig config = HfConfig::FromJson(nlohmann::json::object(), "x");
  WeightStore ws = test::SyntheticLlamaWeights(&config);
  auto low = PlanMixedPrecision(ws, 2.0, nullptr, quant::ScaleSearch::kSearch);
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.status().message().find("below the smallest mix"), std::string::npos) << low.status().message();
  std::filesystem::remove_all(dir);
}

TEST(MixedPlan, CliWritesAPlanWithinTheTarget) {
  const std::string dir = test::MakeTempDir("mixed-cli");
  const std::string tiny = test::ModelDir("llama-tiny");
  // llama-tiny's rows of 64 and 128 take Q4_0 (4.5) or Q8_0 (8.5): a 6.5 budget mixes them.
  auto r = test::RunCli("quantize -m " + tiny + " --mixed auto --target-bpw 6.5 -o " + dir + "/mixed.gguf");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("plan: "), std::string::npos) << r.out;
  const double bpw = FileBpw(dir + "/mixed.gguf");
  EXPECT_LE(bpw, 6.5);
  EXPECT_GT(bpw, 5.0);
  auto f = GgufFile::Open(dir + "/mixed.gguf").value();
  EXPECT_NEAR(f->metadata()["accel.mixed.target_bpw"].get<double>(), 6.5, 1e-6);
  r = test::RunCli("generate -m " + dir + "/mixed.gguf --prompt-ids 1,17,20,45 -n 4");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Bad requests: one line, exit 2.
  for (const std::string& args : {std::string(" --mixed auto"), std::string(" --mixed auto --target-bpw 6 --type q4_0"),
                                  std::string(" --mixed manual --target-bpw 6"), std::string(" --mixed auto --target-bpw 3")}) {
    r = test::RunCli("quantize -m " + tiny + args + " -o " + dir + "/bad.gguf");
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/bad.gguf")) << args;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accel
