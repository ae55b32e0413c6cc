#pragma once
// A model ready to run: config + weights + backend + model + arena, created from a folder, an
// HF id in the local cache, or in-memory parts (synthetic benchmark models).
#include <memory>
#include <string>

#include "models/model.h"

namespace accel {

struct LoadOptions {
  std::string device = "auto";
  DType compute = DType::kF32;  // linear-layer arithmetic: f32 (exact reference semantics) or bf16
};

class LoadedModel {
 public:
  static Result<std::unique_ptr<LoadedModel>> Load(const std::string& spec, const LoadOptions& options = {});
  static Result<std::unique_ptr<LoadedModel>> FromParts(HfConfig config, WeightStore weights, const LoadOptions& options);

  // Checks the inputs against what the model takes, runs it, and recycles the arena.
  Result<TensorMap> Run(const TensorMap& inputs);

  // Greedy generation; Unsupported if the model does not generate.
  Result<Tensor> Generate(const GenerateRequest& request);

  const HfConfig& config() const { return config_; }
  Model& model() { return *model_; }
  Backend& backend() { return *backend_; }
  const std::string& dir() const { return dir_; }
  size_t arena_bytes() const { return arena_.capacity(); }
  // Fallbacks and edge copies of every run so far.
  const ExecStats& exec_stats() const { return stats_; }

 private:
  LoadedModel() = default;
  std::string dir_;
  HfConfig config_;
  std::unique_ptr<WeightStore> weights_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  Arena arena_;
  ExecStats stats_;
};

}  // namespace accel
