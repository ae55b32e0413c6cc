// What the scale search and the importance matrix buy a whole decoder: llama-tiny (q4_0, the
// one block type its 64-wide rows take) and a 256-wide synthetic LLaMA (K-quants, IQ4) written
// with round-to-nearest, the search, and the search under an importance matrix collected on
// other text, each compared with the f32 model over held-out text (KL divergence of the
// next-token distributions, top-1 agreement). Prints the table docs/MODELS.md records.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>

#include "formats/gguf_model.h"
#include "runtime/imatrix.h"
#include "runtime/quant_eval.h"
#include "synthetic_llama.h"
#include "test_util.h"

namespace accel {
namespace {

std::vector<int64_t> RandomIds(size_t n, uint32_t seed, int64_t vocab) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ids(n);
  for (auto& id : ids) id = 3 + static_cast<int64_t>(rng() % static_cast<uint32_t>(vocab - 3));
  return ids;
}

struct Source {
  std::function<void(HfConfig*, WeightStore*)> make;  // a fresh copy of the f32 model's parts
  int64_t vocab;
};

LogitComparison Measure(const Source& src, LoadedModel& ref, const std::string& path, DType t, quant::ScaleSearch search,
                        const Imatrix* imatrix) {
  HfConfig config = HfConfig::FromJson(nlohmann::json::object(), "x");
  WeightStore ws = WeightStore::FromTensors({}, "x");
  src.make(&config, &ws);
  GgufExportOptions o;
  o.weight_dtype = t;
  o.search = search;
  o.imatrix = imatrix;
  Status st = WriteLlamaGguf(path, config, ws, o);
  EXPECT_TRUE(st.ok()) << st.message();
  auto q = LoadedModel::Load(path, LoadOptions("cpu"));
  EXPECT_TRUE(q.ok()) << q.status().message();
  ChunkOptions eval;
  eval.ctx = 64;
  eval.bos = 1;
  auto r = CompareLogits(ref, **q, RandomIds(8 * 64, 2, src.vocab), eval);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return *r;
}

void Table(const std::string& label, const Source& src, std::initializer_list<DType> types) {
  const std::string dir = test::MakeTempDir("imatrix-quality");
  HfConfig config = HfConfig::FromJson(nlohmann::json::object(), "x");
  WeightStore ws = WeightStore::FromTensors({}, "x");
  src.make(&config, &ws);
  auto ref = LoadedModel::FromParts(std::move(config), std::move(ws), LoadOptions("cpu"));
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  ChunkOptions calib;
  calib.ctx = 64;
  calib.bos = 1;
  auto imatrix = CollectImatrix(**ref, RandomIds(16 * 64, 1, src.vocab), calib, "random ids, seed 1");
  ASSERT_TRUE(imatrix.ok()) << imatrix.status().message();
  std::printf("%s: mean KL(f32 || quantized) per position, nats [top-1 agreement], 512 held-out tokens\n", label.c_str());
  std::printf("%-7s %22s %22s %22s\n", "type", "rtn", "search", "search+imatrix");
  for (DType t : types) {
    const std::string path = dir + "/" + std::string(Name(t)) + ".gguf";
    const auto rtn = Measure(src, **ref, path, t, quant::ScaleSearch::kNearest, nullptr);
    const auto search = Measure(src, **ref, path, t, quant::ScaleSearch::kSearch, nullptr);
    const auto imp = Measure(src, **ref, path, t, quant::ScaleSearch::kSearch, &*imatrix);
    std::printf("%-7s %14.6f [%5.1f%%] %14.6f [%5.1f%%] %14.6f [%5.1f%%]\n", std::string(Name(t)).c_str(), rtn.mean_kl,
                100 * rtn.top1_agreement, search.mean_kl, 100 * search.top1_agreement, imp.mean_kl, 100 * imp.top1_agreement);
    // Random weights and tokens leave the search little to find; it must at least not lose.
    EXPECT_LT(search.mean_kl, rtn.mean_kl * 1.05) << Name(t);
    EXPECT_LT(imp.mean_kl, rtn.mean_kl * 1.05) << Name(t);
  }
  std::filesystem::remove_all(dir);
}

TEST(ImatrixQuality, LlamaTinyQ4_0) {
  Source tiny{[](HfConfig* c, WeightStore* w) {
                const std::string dir = test::ModelDir("llama-tiny");
                *c = HfConfig::Load(dir + "/config.json").value();
                *w = WeightStore::Open(dir).value();
              },
              256};
  Table("llama-tiny (hidden 64)", tiny, {DType::kQ4_0});
}

TEST(ImatrixQuality, SyntheticLlamaLowBitTypes) {
  Source synth{[](HfConfig* c, WeightStore* w) { *w = test::SyntheticLlamaWeights(c); }, 320};
  Table("synthetic llama (hidden 256, ffn 512)", synth, {DType::kQ4_K, DType::kQ3_K, DType::kQ2_K, DType::kIQ4_XS, DType::kQ4_0});
}

}  // namespace
}  // namespace accel
