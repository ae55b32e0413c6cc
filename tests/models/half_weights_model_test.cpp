// A decoder whose projections are f16 or bf16 (an F16 GGUF file, a float16 / bfloat16 HF
// checkpoint) runs them 16-bit under f32 arithmetic, and gives exactly the logits of the same
// model with those weights converted to f32: prefill (GEMM) and every greedy decode step
// (matrix-vector path). Every projection reaches PackLinear in its stored dtype, the tied
// lm_head included (nothing converts it to f32 on the way).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/safetensors.h"
#include "generation/llama_tiny_gguf.h"
#include "models/registry.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel {
namespace {

using test_gguf::MustOk;

struct Parts {
  HfConfig config;
  WeightStore weights;
};
using MakeParts = std::function<Parts()>;

// Records the dtype of every weight the model packs.
class RecordingBackend : public CpuBackend {
 public:
  RecordingBackend() : CpuBackend(ThreadPool::Global()) {}
  Result<PackedLinear> PackLinear(const Tensor& w, DType compute) override {
    dtypes.push_back(w.dtype());
    return CpuBackend::PackLinear(w, compute);
  }
  std::vector<DType> dtypes;
};

std::vector<DType> PackedDtypes(const MakeParts& make) {
  Parts p = make();
  RecordingBackend backend;
  ModelLoadContext ctx{p.config, p.weights, backend, DType::kF32};
  auto model = models::FindTemplate(p.config.model_type())->load(ctx);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return backend.dtypes;
}

struct Outputs {
  std::vector<float> logits;                // prefill, every position
  std::vector<std::vector<float>> decode;  // each greedy step's logits
  std::vector<int64_t> ids;
};

Outputs Run(const MakeParts& make) {
  Parts p = make();
  auto model = MustOk(LoadedModel::FromParts(std::move(p.config), std::move(p.weights), {}));
  Tensor ids = Tensor::Zeros(DType::kI64, {1, 7}).value();
  for (int64_t i = 0; i < 7; ++i) ids.data<int64_t>()[i] = 1 + (i * 37) % 200;
  Tensor mask = Tensor::Zeros(DType::kI64, {1, 7}).value();
  for (int64_t i = 0; i < 7; ++i) mask.data<int64_t>()[i] = 1;
  Outputs o;
  TensorMap out = MustOk(model->Run({{"input_ids", ids}, {"attention_mask", mask}}));
  const Tensor& l = out.at("logits");
  o.logits.assign(l.data<float>(), l.data<float>() + l.numel());
  GenerateRequest req;
  req.inputs = {{"input_ids", ids}};
  req.max_new_tokens = 6;
  req.process_logits = [&](const std::vector<int64_t>&, float* logits, int64_t vocab) {
    o.decode.emplace_back(logits, logits + vocab);
  };
  Tensor gen = MustOk(model->Generate(req));
  o.ids.assign(gen.data<int64_t>(), gen.data<int64_t>() + gen.numel());
  return o;
}

void ExpectSameBits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  ASSERT_FALSE(a.empty()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what;
}

void ExpectSameModel(const MakeParts& half, const MakeParts& f32, const std::string& what) {
  const Outputs h = Run(half), f = Run(f32);
  ExpectSameBits(h.logits, f.logits, what + " prefill logits");
  ASSERT_EQ(h.decode.size(), f.decode.size()) << what;
  ASSERT_GE(h.decode.size(), 5u) << what;
  for (size_t s = 0; s < h.decode.size(); ++s) ExpectSameBits(h.decode[s], f.decode[s], what + " step " + std::to_string(s));
  EXPECT_EQ(h.ids, f.ids) << what;
}

constexpr DType kHalf[] = {DType::kF16, DType::kBF16};

// llama.cpp's F16 / BF16 GGUF files against the same file with its tensors stored as f32.
TEST(HalfWeightsModel, GgufRunsAsItsF32Conversion) {
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    const std::string half_path = test_gguf::WriteLlamaTinyGguf(dt), f32_path = test_gguf::WriteLlamaTinyGguf(dt, true);
    auto half_file = MustOk(GgufFile::Open(half_path)), f32_file = MustOk(GgufFile::Open(f32_path));
    auto parts = [](const std::shared_ptr<GgufFile>& f) {
      return [f] {
        GgufModelParts p = MustOk(GgufToHf(*f));
        return Parts{std::move(p.config), std::move(p.weights)};
      };
    };
    const std::vector<DType> packed = PackedDtypes(parts(half_file));
    ASSERT_FALSE(packed.empty());
    for (DType d : packed) EXPECT_EQ(d, dt) << Name(dt);
    for (DType d : PackedDtypes(parts(f32_file))) EXPECT_EQ(d, DType::kF32) << "the reference runs f32 weights";
    ExpectSameModel(parts(half_file), parts(f32_file), std::string(Name(dt)) + " gguf");
    std::filesystem::remove_all(std::filesystem::path(half_path).parent_path());
    std::filesystem::remove_all(std::filesystem::path(f32_path).parent_path());
  }
}

// A float16 / bfloat16 checkpoint with tied embeddings (Qwen2): the lm_head is packed from the
// stored 16-bit table, not from the f32 copy the embedding lookup uses.
TEST(HalfWeightsModel, TiedCheckpointRunsAsItsF32Conversion) {
  const std::string dir = test::ModelDir("qwen2-tiny-tied");
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    std::map<std::string, Tensor> half, widened;
    WeightStore st = MustOk(WeightStore::Open(dir));
    for (const std::string& name : st.Names()) {
      Tensor f = MustOk(st.Get(name));
      Tensor h = Tensor::Zeros(dt, f.shape()).value();
      for (size_t i = 0; i < f.numel(); ++i) {
        h.data<uint16_t>()[i] = dt == DType::kF16 ? F32ToF16(f.data<float>()[i]) : F32ToBf16(f.data<float>()[i]);
      }
      widened[name] = MustOk(h.ToF32());
      half[name] = std::move(h);
    }
    auto parts = [&](const std::map<std::string, Tensor>& t) {
      return [&dir, &t] { return Parts{MustOk(HfConfig::Load(dir + "/config.json")), WeightStore::FromTensors(t, "test")}; };
    };
    const std::vector<DType> packed = PackedDtypes(parts(half));
    EXPECT_EQ(packed.size(), 2u * 4 + 1) << "qkv, o, gate+up, down per layer and the lm_head";
    for (DType d : packed) EXPECT_EQ(d, dt) << Name(dt);
    for (DType d : PackedDtypes(parts(widened))) EXPECT_EQ(d, DType::kF32) << "the reference runs f32 weights";
    ExpectSameModel(parts(half), parts(widened), std::string(Name(dt)) + " tied");
  }
}

}  // namespace
}  // namespace accel
