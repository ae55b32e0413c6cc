#pragma once
// A model ready to run: config + weights + backend + model + arena, created from a folder, an
// HF id in the local cache, a GGUF file, or in-memory parts (synthetic benchmark models).
#include <memory>
#include <string>

#include "formats/gguf.h"
#include "models/causal_lm.h"
#include "models/image_text_lm.h"
#include "models/model.h"

namespace accel {

struct LoadOptions {
  LoadOptions() = default;
  explicit LoadOptions(std::string device_name, DType compute_type = DType::kF32) : device(std::move(device_name)), compute(compute_type) {}

  std::string device = "auto";
  DType compute = DType::kF32;  // linear-layer arithmetic: f32 (exact reference semantics) or bf16
  // Weight bytes taken by the model so far and in all; called on the loading thread.
  WeightStore::ProgressFn on_progress;
};

class LoadedModel {
 public:
  // `spec`: a model folder, an HF id in the local cache, or a .gguf file.
  static Result<std::unique_ptr<LoadedModel>> Load(const std::string& spec, const LoadOptions& options = {});
  static Result<std::unique_ptr<LoadedModel>> FromParts(HfConfig config, WeightStore weights, const LoadOptions& options);

  // Checks the inputs against what the model takes, runs it, and recycles the arena.
  Result<TensorMap> Run(const TensorMap& inputs);

  // Greedy generation; Unsupported if the model does not generate.
  Result<Tensor> Generate(const GenerateRequest& request);

  const HfConfig& config() const { return config_; }
  Model& model() { return *model_; }
  Backend& backend() { return *backend_; }
  // The decoder-only generation interface (a vision-language model's language model, for
  // text-only prompts); null for models that do not generate text that way.
  CausalLm* causal_lm() {
    if (auto* lm = dynamic_cast<CausalLm*>(model_.get())) return lm;
    if (auto* vl = dynamic_cast<ImageTextLm*>(model_.get())) return &vl->language_model();
    return nullptr;
  }
  // Where tokenizer and chat-template files are looked for (a GGUF file's folder).
  const std::string& dir() const { return dir_; }
  // The GGUF file the model came from (its metadata may carry the tokenizer); null otherwise.
  const std::shared_ptr<GgufFile>& gguf() const { return gguf_; }
  size_t arena_bytes() const { return arena_.capacity(); }
  // Fallbacks and edge copies of every run so far.
  const ExecStats& exec_stats() const { return stats_; }

 private:
  LoadedModel() = default;
  std::string dir_;
  std::shared_ptr<GgufFile> gguf_;
  HfConfig config_;
  std::unique_ptr<WeightStore> weights_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  Arena arena_;
  ExecStats stats_;
};

}  // namespace accel
