// K-quant kernels for AVX2 + FMA + F16C (kquant_gemm_impl.h, 256-bit).
#define KQUANT_KERNELS_FN KQuantKernelsAvx2
#define KQUANT_KERNELS_NAME "avx2"
#include "backends/cpu/kquant_gemm_impl.h"
