// AVX2 + FMA f32 GEMM micro-kernel: 6 rows x 16 columns (two ymm), 12 accumulators.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/gemm.h"

namespace accel::cpu {

namespace {
constexpr int kMr = 6;

template <int MR>
inline void MicroKernel(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, int64_t cols,
                        bool accumulate) {
  __m256 acc0[MR], acc1[MR];
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(b + k * 16);
    __m256 b1 = _mm256_load_ps(b + k * 16 + 8);
    for (int i = 0; i < MR; ++i) {
      __m256 av = _mm256_broadcast_ss(a + k * kMr + i);
      acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
    }
  }
  alignas(32) float tmp[16];
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (cols == 16) {
      if (accumulate) {
        acc0[i] = _mm256_add_ps(acc0[i], _mm256_loadu_ps(row));
        acc1[i] = _mm256_add_ps(acc1[i], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, acc0[i]);
      _mm256_storeu_ps(row + 8, acc1[i]);
    } else {
      _mm256_store_ps(tmp, acc0[i]);
      _mm256_store_ps(tmp + 8, acc1[i]);
      for (int64_t j = 0; j < cols; ++j) row[j] = accumulate ? row[j] + tmp[j] : tmp[j];
    }
  }
}

using KernelFn = void (*)(const float*, const float*, int64_t, float*, int64_t, int64_t, bool);
constexpr KernelFn kKernels[kMr + 1] = {nullptr, MicroKernel<1>, MicroKernel<2>, MicroKernel<3>,
                                        MicroKernel<4>, MicroKernel<5>, MicroKernel<6>};
void Tile(const void* a_v, const void* panel_v, int64_t kc, float* c, int64_t ldc, int64_t rows, int64_t cols,
          bool accumulate, const void* /*prefetch*/, int64_t /*prefetch_bytes*/) {
  const float* a = static_cast<const float*>(a_v);
  const float* panel = static_cast<const float*>(panel_v);
  int64_t r = 0;
  for (; r + kMr <= rows; r += kMr) kKernels[kMr](a + r * kc, panel, kc, c + r * ldc, ldc, cols, accumulate);
  if (r < rows) kKernels[rows - r](a + r * kc, panel, kc, c + r * ldc, ldc, cols, accumulate);
}

}  // namespace

const GemmKernel& GemmKernelAvx2F32() {
  static const GemmKernel k{"avx2-f32", DType::kF32, 16, kMr, 1, PackAF32, Tile, EpilogueGeneric};
  return k;
}

}  // namespace accel::cpu
