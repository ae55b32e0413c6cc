#pragma once
// Memory admission: before a model is loaded, the memory estimator's need for it (weights at
// their stored dtype, activations and the KV cache for the workload) is checked against the
// budget: --memory-limit, else ACCEL_MEMORY_LIMIT, else 90% of available memory. A model that
// cannot fit is refused with the numbers instead of being loaded into swap or the OOM killer.
#include <cstdint>
#include <string>

#include "core/status.h"

namespace accel {

struct AdmissionRequest {
  std::string model;         // folder, config.json, HF id or .gguf file
  std::string memory_limit;  // "--memory-limit" text; empty = ACCEL_MEMORY_LIMIT or available memory
  int64_t batch = 1;
  int64_t context = 0;       // tokens of activations/KV cache; 0 = min(the model's context, 4096)
};

// OutOfMemory with the breakdown when the model does not fit; Ok when it fits or when nothing
// can be estimated (an unreadable config or GGUF header: the loader reports those itself). A GGUF
// file is estimated from its header: tensor bytes from the tensor table, activations and KV cache
// from its metadata (block count, embedding length, head counts, context length).
Status AdmitModel(const AdmissionRequest& request);

}  // namespace accel
