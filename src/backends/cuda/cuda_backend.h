#pragma once
// The CUDA backend: device memory from a caching pool on cudaMalloc, one stream, matrix
// products on cuBLAS (loaded at run time, so accel starts on machines without it), the rest on
// our kernels (cuda_kernels.cu). Ops it lacks (convolutions, GroupNorm) run on the CPU through
// Exec's fallback.
#include <memory>
#include <string>

#include "graph/backend.h"

namespace accel::cuda {

// GPUs the driver reports; 0 without a driver or GPU (then `why` says which).
int DeviceCount(std::string* why = nullptr);
Result<std::unique_ptr<Backend>> CreateBackend(int index);

}  // namespace accel::cuda
