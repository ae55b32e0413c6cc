#include "models/synthetic/synthetic.h"

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

namespace accel::synthetic {

namespace {

// splitmix64 → uniform in [-scale, scale): fast, deterministic across platforms.
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
  Rng rng;
  std::map<std::string, Tensor> tensors;
  void Random(const std::string& name, Shape shape, float scale) {
    Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng.Uniform(scale);
    tensors[name] = std::move(t);
  }
  void Fill(const std::string& name, Shape shape, float value) {
    Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = value;
    tensors[name] = std::move(t);
  }
  void Linear(const std::string& name, int64_t out, int64_t in) {
    Random(name + ".weight", {out, in}, 1.0f / std::sqrt(static_cast<float>(in)));
    Random(name + ".bias", {out}, 0.02f);
  }
  void Norm(const std::string& name, int64_t n) {
    Fill(name + ".weight", {n}, 1.0f);
    Fill(name + ".bias", {n}, 0.0f);
  }
};

Result<SyntheticModel> MakeBertLike(const std::string& name, const std::string& model_type, int64_t vocab, int64_t layers,
                                    int64_t max_pos, int64_t type_vocab, uint64_t seed) {
  const int64_t h = 768, f = 3072;
  nlohmann::json cfg = {{"model_type", model_type}, {"architectures", {model_type == "roberta" ? "RobertaModel" : "BertModel"}},
                        {"vocab_size", vocab}, {"hidden_size", h}, {"num_hidden_layers", layers},
                        {"num_attention_heads", 12}, {"intermediate_size", f}, {"hidden_act", "gelu"},
                        {"max_position_embeddings", max_pos}, {"type_vocab_size", type_vocab},
                        {"layer_norm_eps", 1e-12}, {"pad_token_id", model_type == "roberta" ? 1 : 0}};
  Builder b{Rng(seed), {}};
  b.Random("embeddings.word_embeddings.weight", {vocab, h}, 0.02f);
  b.Random("embeddings.position_embeddings.weight", {max_pos, h}, 0.02f);
  b.Random("embeddings.token_type_embeddings.weight", {type_vocab, h}, 0.02f);
  b.Norm("embeddings.LayerNorm", h);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    b.Linear(p + "attention.self.query", h, h);
    b.Linear(p + "attention.self.key", h, h);
    b.Linear(p + "attention.self.value", h, h);
    b.Linear(p + "attention.output.dense", h, h);
    b.Norm(p + "attention.output.LayerNorm", h);
    b.Linear(p + "intermediate.dense", f, h);
    b.Linear(p + "output.dense", h, f);
    b.Norm(p + "output.LayerNorm", h);
  }
  b.Linear("pooler.dense", h, h);
  return SyntheticModel{HfConfig::FromJson(cfg, "synthetic:" + name), WeightStore::FromTensors(std::move(b.tensors), "synthetic:" + name)};
}

}  // namespace

std::vector<std::string> Names() { return {"bert-base", "roberta-base"}; }

Result<SyntheticModel> Make(const std::string& name, uint64_t seed) {
  if (name == "bert-base") return MakeBertLike(name, "bert", 30522, 12, 512, 2, seed);
  if (name == "roberta-base") return MakeBertLike(name, "roberta", 50265, 12, 514, 1, seed);
  return NotFound("no synthetic model named '" + name + "' (have: bert-base, roberta-base)");
}

}  // namespace accel::synthetic
