#pragma once
// Deterministic synthetic-weight models at real shapes (benchmarks, `make run`): a config and
// weights generated in-process from a seed, so nothing is downloaded. Results obtained with them
// are labelled synthetic. Weights are drawn at scales that keep activations in range through
// every layer (no NaN, no saturated tanh/softmax), so f32 vs bf16 comparisons mean something.
#include <optional>
#include <string>
#include <vector>

#include "formats/hf_config.h"
#include "formats/model_source.h"
#include "models/model.h"

namespace accel::synthetic {

struct SyntheticModel {
  HfConfig config;
  WeightStore weights;
};

// kReduced keeps a model's structure (weight names, layer kinds, heads, patch size, mel bins)
// at a small width, depth and input size, so tests can build and run every model quickly.
enum class Size { kReal, kReduced };

struct Info {
  std::string name;
  std::string model_type;  // config.json's model_type: picks the template
  std::string task;        // what a forward pass with MakeInputs' inputs computes
  bool takes_sequence;     // its inputs have a free sequence length (text); else a fixed input
};

inline constexpr const char* kTextGeneration = "text-generation";

// "bert-base", "roberta-base" (BERT template), "vit-base-patch16-224" (ViTModel),
// "whisper-base" (WhisperForConditionalGeneration; its forward pass without
// decoder_input_ids is the encoder alone), "llama-1b" (LlamaForCausalLM at Llama-3.2-1B's
// layer shape with a 32000-token vocabulary; task text-generation).
std::vector<Info> Catalog();
std::vector<std::string> Names();
Result<Info> Describe(const std::string& name);
// `weights`: the type the decoders' projection matrices are stored in (f32, f16, bf16 or a
// block-quantized type such as q4_k); embeddings and norms stay f32. Encoders take f32 only.
Result<SyntheticModel> Make(const std::string& name, uint64_t seed = 1234, Size size = Size::kReal,
                            DType weights = DType::kF32);

// LLaMA-architecture decoders of named shapes, for the decode benchmarks.
struct LlamaShape {
  int64_t hidden, layers, heads, kv_heads, ffn, vocab;
};
// "125m", "1b" (Llama-3.2-1B's layers), "8b" (Llama-3-8B), "tinyllama"; nullopt otherwise.
std::optional<LlamaShape> LlamaPreset(const std::string& name);
Result<SyntheticModel> MakeLlama(const std::string& name, const LlamaShape& shape, DType weights, uint64_t seed = 1234);

// Deterministic inputs named `names`, shaped from the config: input_ids / attention_mask /
// token_type_ids [batch, seq] (ids inside the vocabulary, mask all ones, types zero);
// pixel_values [batch, num_channels, image_size, image_size] and input_features
// [batch, num_mel_bins, 2 * max_source_positions] with values in [-1, 1) (normalised pixels,
// normalised log-mel). Unknown names are an error.
// The inputs a benchmark feeds `model`: its required inputs, plus attention_mask where it takes
// one (the peers pass a mask). Whisper's are input_features alone: the encoder.
std::vector<std::string> InputNames(const Model& model);
Result<TensorMap> MakeInputs(const HfConfig& config, const std::vector<std::string>& names, int64_t batch, int64_t seq,
                             uint64_t seed = 99);

}  // namespace accel::synthetic
