// K-quant kernels for AVX512-VNNI (+BW/VL): kquant_gemm_impl.h with 512-bit registers, one
// vpmaddubsw + vpdpwssd per 64 weights and activation row (AVX2 takes five instructions).
#define KQUANT_KERNELS_FN KQuantKernelsAvx512Vnni
#define KQUANT_KERNELS_NAME "avx512-vnni"
#include "backends/cpu/kquant_gemm_impl.h"
