// AVX-512 f32 GEMM micro-kernel: MR rows x 32 columns (two zmm) per step, 24 accumulators for
// MR = 12, the A element broadcast from memory into the FMA. Compiled with -mavx512*, called
// only when CPUID says so.
#include <immintrin.h>

#include "backends/cpu/gemm.h"
#include "backends/cpu/vec_math_avx512.h"
#include "backends/cpu/mask_avx512.h"

namespace accel::cpu {

namespace {

constexpr int kMr = 12;

template <int MR>
inline void MicroKernel(const float* a, const float* b, int64_t kc, float* c, int64_t ldc,
                        __mmask16 mask0, __mmask16 mask1, bool accumulate) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_load_ps(b + k * 32);
    __m512 b1 = _mm512_load_ps(b + k * 32 + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      __m512 av = _mm512_set1_ps(a[k * kMr + i]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc0[i] = _mm512_add_ps(acc0[i], _mm512_maskz_loadu_ps(mask0, row));
      acc1[i] = _mm512_add_ps(acc1[i], _mm512_maskz_loadu_ps(mask1, row + 16));
    }
    _mm512_mask_storeu_ps(row, mask0, acc0[i]);
    _mm512_mask_storeu_ps(row + 16, mask1, acc1[i]);
  }
}

using KernelFn = void (*)(const float*, const float*, int64_t, float*, int64_t, __mmask16, __mmask16, bool);
constexpr KernelFn kKernels[kMr + 1] = {nullptr,          MicroKernel<1>,  MicroKernel<2>, MicroKernel<3>, MicroKernel<4>,
                                        MicroKernel<5>,   MicroKernel<6>,  MicroKernel<7>, MicroKernel<8>, MicroKernel<9>,
                                        MicroKernel<10>,  MicroKernel<11>, MicroKernel<12>};

void Tile(const void* a_v, const void* panel_v, int64_t kc, float* c, int64_t ldc, int64_t rows, int64_t cols,
          bool accumulate) {
  const float* a = static_cast<const float*>(a_v);
  const float* panel = static_cast<const float*>(panel_v);
  const __mmask16 m0 = avx512::MaskFor(cols), m1 = avx512::MaskFor(cols - 16);
  int64_t r = 0;
  for (; r + kMr <= rows; r += kMr) kKernels[kMr](a + r * kc, panel, kc, c + r * ldc, ldc, m0, m1, accumulate);
  if (r < rows) kKernels[rows - r](a + r * kc, panel, kc, c + r * ldc, ldc, m0, m1, accumulate);
}

}  // namespace

const GemmKernel& GemmKernelAvx512F32() {
  static const GemmKernel k{"avx512-f32", DType::kF32, 32, kMr, 1, PackAF32, Tile, EpilogueAvx512};
  return k;
}

void EpilogueAvx512(float* c, int64_t ldc, int64_t rows, int64_t cols, const float* bias, Activation act) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < cols; j += 16) {
      __mmask16 m = avx512::MaskFor(cols - j);
      __m512 v = _mm512_maskz_loadu_ps(m, row + j);
      if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + j));
      _mm512_mask_storeu_ps(row + j, m, avx512::Activate(act, v));
    }
  }
}

}  // namespace accel::cpu
