#pragma once
// cuBLAS entry points resolved with dlopen on first use: the accel binary links only the static
// CUDA runtime, so it starts (and runs on the CPU) where no CUDA libraries are installed.
#include <cublas_api.h>

#include <memory>
#include <string>

#include "core/dynamic_library.h"
#include "core/status.h"

namespace accel::cuda {

struct Cublas {
  cublasStatus_t (*Create)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*Destroy)(cublasHandle_t) = nullptr;
  cublasStatus_t (*SetStream)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*SetMathMode)(cublasHandle_t, cublasMath_t) = nullptr;
  cublasStatus_t (*GemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
                           cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
                           cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  std::shared_ptr<DynamicLibrary> library;  // the file that was loaded, kept open
};

// The process-wide table, or why cuBLAS could not be loaded.
Result<const Cublas*> LoadCublas();

}  // namespace accel::cuda
