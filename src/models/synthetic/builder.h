#pragma once
// Pieces the synthetic model makers share: a seeded generator and a tensor-map builder whose
// linear layers are drawn at 1/sqrt(fan_in), so each layer keeps its input's scale.
#include <cmath>
#include <map>
#include <string>

#include "core/tensor.h"
#include "models/synthetic/synthetic.h"

namespace accel::synthetic::detail {

// splitmix64 -> uniform in [-scale, scale): fast, deterministic across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  float Uniform(float scale) {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (static_cast<float>(z >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f) * scale;
  }

 private:
  uint64_t s_;
};

struct Builder {
  explicit Builder(uint64_t seed) : rng(seed) {}
  Rng rng;
  std::map<std::string, Tensor> tensors;

  float* New(const std::string& name, Shape shape) {
    Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
    float* p = t.data<float>();
    tensors[name] = std::move(t);
    return p;
  }
  void Random(const std::string& name, Shape shape, float scale) {
    float* p = New(name, shape);
    const size_t n = NumElements(shape).value_or(0);
    for (size_t i = 0; i < n; ++i) p[i] = rng.Uniform(scale);
  }
  void Fill(const std::string& name, Shape shape, float value) {
    float* p = New(name, shape);
    const size_t n = NumElements(shape).value_or(0);
    for (size_t i = 0; i < n; ++i) p[i] = value;
  }
  // Weights at 1/sqrt(fan_in) keep the output's scale near the input's (nn.Linear's default
  // init has the same bound); a small bias.
  void Linear(const std::string& name, int64_t out, int64_t in, bool bias = true) {
    Random(name + ".weight", {out, in}, 1.0f / std::sqrt(static_cast<float>(in)));
    if (bias) Random(name + ".bias", {out}, 0.02f);
  }
  // A convolution's fan-in is in_channels x kernel elements.
  void Conv(const std::string& name, Shape weight_shape) {
    int64_t fan_in = 1;
    for (size_t i = 1; i < weight_shape.size(); ++i) fan_in *= weight_shape[i];
    const int64_t out = weight_shape[0];
    Random(name + ".weight", std::move(weight_shape), 1.0f / std::sqrt(static_cast<float>(fan_in)));
    Random(name + ".bias", {out}, 0.02f);
  }
  void Norm(const std::string& name, int64_t n) {
    Fill(name + ".weight", {n}, 1.0f);
    Fill(name + ".bias", {n}, 0.0f);
  }
  SyntheticModel Finish(const nlohmann::json& config, const std::string& name) {
    return SyntheticModel{HfConfig::FromJson(config, "synthetic:" + name), WeightStore::FromTensors(std::move(tensors), "synthetic:" + name)};
  }
};

// Per-family makers (families.cpp).
Result<SyntheticModel> MakeBertLike(const std::string& name, const std::string& model_type, Size size, uint64_t seed);
Result<SyntheticModel> MakeVit(const std::string& name, Size size, uint64_t seed);
Result<SyntheticModel> MakeWhisper(const std::string& name, Size size, uint64_t seed);

}  // namespace accel::synthetic::detail
