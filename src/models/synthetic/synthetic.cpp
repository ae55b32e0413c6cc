#include "models/synthetic/synthetic.h"

#include "models/synthetic/builder.h"

namespace accel::synthetic {

std::vector<Info> Catalog() {
  return {{"bert-base", "bert", "embedding", true},
          {"roberta-base", "roberta", "embedding", true},
          {"vit-base-patch16-224", "vit", "image-embedding", false},
          {"whisper-base", "whisper", "speech-encoder", false},
          {"llama-1b", "llama", kTextGeneration, true}};
}

std::vector<std::string> Names() {
  std::vector<std::string> out;
  for (const auto& i : Catalog()) out.push_back(i.name);
  return out;
}

Result<Info> Describe(const std::string& name) {
  for (const auto& i : Catalog()) {
    if (i.name == name) return i;
  }
  std::string have;
  for (const auto& n : Names()) have += (have.empty() ? "" : ", ") + n;
  return NotFound("no synthetic model named '" + name + "' (have: " + have + ")");
}

std::optional<LlamaShape> LlamaPreset(const std::string& name) {
  if (name == "125m") return LlamaShape{768, 12, 12, 4, 2048, 32000};
  if (name == "1b") return LlamaShape{2048, 16, 32, 8, 8192, 32000};
  if (name == "8b") return LlamaShape{4096, 32, 32, 8, 14336, 128256};
  if (name == "tinyllama") return LlamaShape{2048, 22, 32, 4, 5632, 32000};
  return std::nullopt;
}

Result<SyntheticModel> Make(const std::string& name, uint64_t seed, Size size, DType weights) {
  ACCEL_ASSIGN_OR_RETURN(Info info, Describe(name));
  if (info.model_type == "llama") {
    LlamaShape shape = *LlamaPreset("1b");
    if (size == Size::kReduced) shape = {256, 2, 4, 2, 512, 1000};
    return MakeLlama(name, shape, weights, seed);
  }
  if (weights != DType::kF32)
    return Unsupported("synthetic " + name + " is stored in f32 only (asked for " + std::string(Name(weights)) + ")");
  if (info.model_type == "vit") return detail::MakeVit(name, size, seed);
  if (info.model_type == "whisper") return detail::MakeWhisper(name, size, seed);
  return detail::MakeBertLike(name, info.model_type, size, seed);
}

std::vector<std::string> InputNames(const Model& model) {
  std::vector<std::string> names = model.required_inputs();
  for (const auto& o : model.optional_inputs()) {
    if (o == "attention_mask") names.push_back(o);
  }
  return names;
}

Result<TensorMap> MakeInputs(const HfConfig& config, const std::vector<std::string>& names, int64_t batch, int64_t seq,
                             uint64_t seed) {
  if (batch <= 0) return InvalidArgument("batch must be positive");
  detail::Rng rng(seed);
  auto uniform = [&](Shape shape) -> Result<Tensor> {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DType::kF32, std::move(shape)));
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng.Uniform(1.0f);
    return t;
  };
  TensorMap out;
  for (const auto& name : names) {
    if (name == "input_ids" || name == "attention_mask" || name == "token_type_ids") {
      if (seq <= 0) return InvalidArgument(config.label() + ": '" + name + "' needs a positive sequence length");
      ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DType::kI64, {batch, seq}));
      // Ids above the special tokens, spread over the vocabulary.
      const int64_t vocab = config.IntOr("vocab_size", 1000);
      if (vocab <= 5) return InvalidArgument(config.label() + ": vocab_size " + std::to_string(vocab) + " is too small");
      for (size_t i = 0; i < t.numel(); ++i) {
        int64_t& v = t.data<int64_t>()[i];
        if (name == "input_ids") v = 5 + static_cast<int64_t>((i * 7919) % static_cast<size_t>(vocab - 5));
        if (name == "attention_mask") v = 1;
      }
      out[name] = std::move(t);
    } else if (name == "pixel_values") {
      ACCEL_ASSIGN_OR_RETURN(int64_t image, config.Int({"image_size"}));
      ACCEL_ASSIGN_OR_RETURN(out[name], uniform({batch, config.IntOr("num_channels", 3), image, image}));
    } else if (name == "input_features") {
      ACCEL_ASSIGN_OR_RETURN(int64_t mels, config.Int({"num_mel_bins"}));
      ACCEL_ASSIGN_OR_RETURN(int64_t positions, config.Int({"max_source_positions"}));
      ACCEL_ASSIGN_OR_RETURN(out[name], uniform({batch, mels, 2 * positions}));
    } else {
      return Unsupported(config.label() + ": no synthetic input for '" + name + "'");
    }
  }
  return out;
}

}  // namespace accel::synthetic
