#include "placement/admission.h"

#include <algorithm>
#include <cstdlib>

#include "core/log.h"
#include "hw/hw_sources.h"
#include "hw/memory_info.h"
#include "placement/device_selection.h"
#include "placement/memory_budget.h"
#include "registry/memory_estimator.h"
#include "registry/model_evidence.h"

namespace accel {

namespace {

// The dtype the weights are stored in: the estimate of what loading them costs.
DType StoredDType(const registry::ParamCount& params) {
  int64_t best = -1;
  DType dtype = DType::kF32;
  for (const auto& [name, bytes] : params.bytes_by_dtype) {
    auto d = DTypeFromSafetensors(name);
    if (d && bytes > best) {
      best = bytes;
      dtype = *d;
    }
  }
  return dtype;
}

}  // namespace

Status AdmitModel(const AdmissionRequest& request) {
  if (request.model.size() > 5 && request.model.compare(request.model.size() - 5, 5, ".gguf") == 0) return Status::Ok();
  auto evidence = registry::GatherEvidence(request.model);
  if (!evidence.ok()) return Status::Ok();  // the loader names what is wrong with the model
  auto profile = ModelProfile::FromEvidence(*evidence);
  if (!profile.ok()) {
    log::Debug("memory admission skipped for " + request.model + ": " + profile.status().message());
    return Status::Ok();
  }
  auto memory = hw::DetectMemory(hw::HwSources::FromEnv());
  auto budget = ResolveMemoryLimit(request.memory_limit, memory.ok() ? *memory : hw::MemoryInfo{});
  if (!budget.ok()) {
    // A malformed limit is an error; unknown available memory with no limit leaves nothing to check.
    if (!request.memory_limit.empty() || std::getenv("ACCEL_MEMORY_LIMIT")) return budget.status();
    return Status::Ok();
  }
  const int64_t positions = profile->config.IntOr("max_position_embeddings", 4096);
  const int64_t context = request.context > 0 ? request.context : std::clamp<int64_t>(positions, 1, 4096);
  auto estimate = registry::EstimateMemory(profile->config, profile->params, StoredDType(profile->params),
                                           std::max<int64_t>(1, request.batch), context, profile->decoder);
  if (!estimate.ok()) {
    log::Debug("memory admission skipped for " + request.model + ": " + estimate.status().message());
    return Status::Ok();
  }
  return registry::CheckFits(*estimate, *budget, "this machine").WithContext(request.model);
}

}  // namespace accel
