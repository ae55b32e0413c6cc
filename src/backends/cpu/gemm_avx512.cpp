// AVX-512 f32 GEMM micro-kernel, the A element broadcast against a row of the packed panel.
// Compiled with -mavx512*, called only when CPUID says so.
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/vec_math_avx512.h"
#include "backends/cpu/mask_avx512.h"

namespace accel::cpu {

namespace {

// 8 rows x 48 columns (three zmm): 24 accumulators fed by 3 panel loads and 8 broadcasts per
// k, a third fewer broadcasts per FMA than 12 x 32, which is what limits the 12 x 32 shape.
constexpr int kMr = 8;
constexpr int kNv = 3;  // zmm vectors per row
constexpr int kNr = 16 * kNv;

// `pf_lines` cache lines from `pf` are prefetched one per `pf_every` steps of k.
template <int MR>
inline void MicroKernel(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, const __mmask16* mask,
                        bool accumulate, const char* pf, int64_t pf_lines) {
  __m512 acc[MR][kNv];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < kNv; ++v) acc[i][v] = _mm512_setzero_ps();
  const int64_t pf_every = pf_lines > 0 ? std::max<int64_t>(1, kc / pf_lines) : kc;
  for (int64_t k0 = 0; k0 < kc; k0 += pf_every) {
    if (pf_lines-- > 0) {
      _mm_prefetch(pf, _MM_HINT_T1);
      pf += 64;
    }
    const int64_t k1 = std::min(kc, k0 + pf_every);
    for (int64_t k = k0; k < k1; ++k) {
      __m512 bv[kNv];
#pragma GCC unroll 3
      for (int v = 0; v < kNv; ++v) bv[v] = _mm512_load_ps(b + k * kNr + 16 * v);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m512 av = _mm512_set1_ps(a[k * kMr + i]);
#pragma GCC unroll 3
        for (int v = 0; v < kNv; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
#pragma GCC unroll 3
    for (int v = 0; v < kNv; ++v) {
      if (accumulate) acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_maskz_loadu_ps(mask[v], row + 16 * v));
      _mm512_mask_storeu_ps(row + 16 * v, mask[v], acc[i][v]);
    }
  }
}

// 8 rows x 8 k of A transposed in registers into the packed [k][8] order.
inline void Transpose8x8(const float* a, int64_t lda, float* out) {
  __m256 r[8], t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(a + i * lda);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 8; h += 4) {
    u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
    u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
    u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
    u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    _mm256_storeu_ps(out + 8 * j, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));
    _mm256_storeu_ps(out + 8 * (j + 4), _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));
  }
}

// PackAF32 for full blocks of kMr rows, 8 k at a time in registers (the scalar gather was ~5%
// of a 128-row GEMM); partial blocks and the k tail go to PackAF32.
void PackA(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out_v) {
  float* out = static_cast<float*>(out_v);
  const int64_t full = mr == kMr ? rows / kMr * kMr : 0, k8 = kc / 8 * 8;
  for (int64_t r0 = 0; r0 < full; r0 += kMr) {
    float* block = out + r0 * kc;
    for (int64_t k = 0; k < k8; k += 8) Transpose8x8(a + r0 * lda + k, lda, block + k * kMr);
    for (int64_t k = k8; k < kc; ++k)
      for (int64_t i = 0; i < kMr; ++i) block[k * kMr + i] = a[(r0 + i) * lda + k];
  }
  if (full < rows) PackAF32(a + full * lda, lda, rows - full, kc, mr, out + full * kc);
}

using KernelFn = void (*)(const float*, const float*, int64_t, float*, int64_t, const __mmask16*, bool, const char*,
                          int64_t);
constexpr KernelFn kKernels[kMr + 1] = {nullptr,        MicroKernel<1>, MicroKernel<2>, MicroKernel<3>, MicroKernel<4>,
                                        MicroKernel<5>, MicroKernel<6>, MicroKernel<7>, MicroKernel<8>};

void Tile(const void* a_v, const void* panel_v, int64_t kc, float* c, int64_t ldc, int64_t rows, int64_t cols,
          bool accumulate, const void* prefetch, int64_t prefetch_bytes) {
  const float* a = static_cast<const float*>(a_v);
  const float* panel = static_cast<const float*>(panel_v);
  __mmask16 mask[kNv];
  for (int v = 0; v < kNv; ++v) mask[v] = avx512::MaskFor(cols - 16 * v);
  PrefetchSpread pf(prefetch, prefetch_bytes, (rows + kMr - 1) / kMr);
  for (int64_t r = 0; r < rows; r += kMr, pf.advance()) {
    kKernels[std::min<int64_t>(kMr, rows - r)](a + r * kc, panel, kc, c + r * ldc, ldc, mask, accumulate, pf.at(),
                                               pf.lines());
  }
}

}  // namespace

const GemmKernel& GemmKernelAvx512F32() {
  static const GemmKernel k{"avx512-f32", DType::kF32, kNr, kMr, 1, PackA, Tile, EpilogueAvx512};
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
