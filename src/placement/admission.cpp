#include "placement/admission.h"

#include <algorithm>
#include <cstdlib>

#include "core/dtype_names.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "hw/hw_sources.h"
#include "hw/memory_info.h"
#include "placement/device_selection.h"
#include "placement/memory_budget.h"
#include "registry/memory_estimator.h"
#include "registry/model_evidence.h"

namespace accel {

namespace {

// What the estimate is made from: a model folder's config.json and safetensors headers, or a
// GGUF file's metadata and tensor table.
struct EstimateInputs {
  HfConfig config;
  registry::ParamCount params;
  bool decoder = false;
  int64_t loaded_weight_bytes = -1;  // when the loader's own size is known (GGUF); else from params
};

// The dtype holding most of the weight bytes (bytes_by_dtype is keyed by Name(): "bf16",
// "q4_k"; the safetensors spelling "BF16" never matched it, so bf16 models were estimated as f32).
DType StoredDType(const registry::ParamCount& params) {
  int64_t best = -1;
  DType dtype = DType::kF32;
  for (const auto& [name, bytes] : params.bytes_by_dtype) {
    auto d = DTypeFromName(name);
    if (d && bytes > best) {
      best = bytes;
      dtype = *d;
    }
  }
  return dtype;
}

bool IsGguf(const std::string& model) {
  return model.size() > 5 && model.compare(model.size() - 5, 5, ".gguf") == 0;
}

// The GGUF side reads the header only: a file whose metadata claims a 400 GiB model is refused
// before any tensor is touched.
Result<EstimateInputs> GgufInputs(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::shared_ptr<GgufFile> file, GgufFile::Open(path));
  ACCEL_ASSIGN_OR_RETURN(HfConfig config, GgufHfConfig(*file));
  return EstimateInputs{std::move(config), registry::ParamsFromGguf(*file), /*decoder=*/true,
                        GgufLoadedWeightBytes(*file)};
}

Result<EstimateInputs> FolderInputs(const std::string& model) {
  ACCEL_ASSIGN_OR_RETURN(registry::ModelEvidence evidence, registry::GatherEvidence(model));
  ACCEL_ASSIGN_OR_RETURN(ModelProfile profile, ModelProfile::FromEvidence(evidence));
  return EstimateInputs{std::move(profile.config), std::move(profile.params), profile.decoder, -1};
}

}  // namespace

Status AdmitModel(const AdmissionRequest& request) {
  // Nothing to estimate (no config, an unreadable or malformed file) is left to the loader,
  // which names what is wrong with the model.
  auto inputs = IsGguf(request.model) ? GgufInputs(request.model) : FolderInputs(request.model);
  if (!inputs.ok()) {
    log::Debug("memory admission skipped for " + request.model + ": " + inputs.status().message());
    return Status::Ok();
  }
  auto memory = hw::DetectMemory(hw::HwSources::FromEnv());
  auto budget = ResolveMemoryLimit(request.memory_limit, memory.ok() ? *memory : hw::MemoryInfo{});
  if (!budget.ok()) {
    // A malformed limit is an error; unknown available memory with no limit leaves nothing to check.
    if (!request.memory_limit.empty() || std::getenv("ACCEL_MEMORY_LIMIT")) return budget.status();
    return Status::Ok();
  }
  const int64_t positions = inputs->config.IntOr("max_position_embeddings", 4096);
  const int64_t context = request.context > 0 ? request.context : std::clamp<int64_t>(positions, 1, 4096);
  auto estimate = registry::EstimateMemory(inputs->config, inputs->params, StoredDType(inputs->params),
                                           std::max<int64_t>(1, request.batch), context, inputs->decoder);
  if (!estimate.ok()) {
    log::Debug("memory admission skipped for " + request.model + ": " + estimate.status().message());
    return Status::Ok();
  }
  if (inputs->loaded_weight_bytes >= 0) {
    // Mixed quantizations (Q4_K with Q6_K layers, f32 norms) are counted as the loader holds them.
    estimate->weights_bytes = inputs->loaded_weight_bytes;
    estimate->total_bytes = estimate->weights_bytes + estimate->activation_bytes + estimate->kv_cache_bytes;
  }
  return registry::CheckFits(*estimate, *budget, "this machine").WithContext(request.model);
}

}  // namespace accel
