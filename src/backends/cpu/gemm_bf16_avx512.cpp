// AVX512-BF16 GEMM micro-kernel: A and W rounded to bf16, pairs of K multiplied and summed
// into f32 accumulators by vdpbf16ps (twice the multiply rate of f32 FMA). 12 rows x 32
// columns per step, like the f32 kernel. Packed A holds, per row block and K pair, one 32-bit
// word per row: the two bf16 values that vdpbf16ps takes from a broadcast.
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/mask_avx512.h"
#include "core/half.h"

namespace accel::cpu {

namespace {

constexpr int kMr = 12;

// Scalar form: partial row blocks and an odd K tail.
void PackABf16Scalar(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, uint32_t* out) {
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t r0 = 0; r0 < rows; r0 += mr) {
    const int64_t n = std::min<int64_t>(mr, rows - r0);
    uint32_t* block = out + r0 * pairs;
    for (int64_t kp = 0; kp < pairs; ++kp) {
      for (int64_t i = 0; i < mr; ++i) {
        uint32_t lo = 0, hi = 0;
        if (i < n) {
          const float* row = a + (r0 + i) * lda;
          lo = F32ToBf16(row[2 * kp]);
          hi = 2 * kp + 1 < kc ? F32ToBf16(row[2 * kp + 1]) : 0;
        }
        block[kp * mr + i] = lo | (hi << 16);
      }
    }
  }
}

// Full blocks of kMr rows: each row's 32 values become 16 pair words in one vcvtne2ps2bf16 (the
// scalar rounding was ~6% of a 128-row GEMM), then the words are interleaved across rows from
// L1. Like all AVX512-BF16 conversions it flushes denormal inputs to zero.
void PackABf16(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out_v) {
  uint32_t* out = static_cast<uint32_t*>(out_v);
  const int64_t pairs = (kc + 1) / 2;
  const int64_t full = mr == kMr ? rows / kMr * kMr : 0, k32 = kc / 32 * 32;
  for (int64_t r0 = 0; r0 < full; r0 += kMr) {
    uint32_t* block = out + r0 * pairs;
    for (int64_t k = 0; k < k32; k += 32) {
      alignas(64) uint32_t words[kMr][16];
      for (int i = 0; i < kMr; ++i) {
        const float* row = a + (r0 + i) * lda + k;
        const __m512bh bf = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + 16), _mm512_loadu_ps(row));
        _mm512_store_si512(words[i], (__m512i)bf);
      }
      uint32_t* dst = block + k / 2 * kMr;
      for (int j = 0; j < 16; ++j)
#pragma GCC unroll 12
        for (int i = 0; i < kMr; ++i) dst[j * kMr + i] = words[i][j];
    }
    if (k32 < kc) {
      // The tail pairs of this block, packed as a block of their own then placed.
      const int64_t tail_pairs = pairs - k32 / 2;
      uint32_t tail[kMr * 16];
      PackABf16Scalar(a + r0 * lda + k32, lda, kMr, kc - k32, kMr, tail);
      std::copy(tail, tail + tail_pairs * kMr, block + k32 / 2 * kMr);
    }
  }
  if (full < rows) PackABf16Scalar(a + full * lda, lda, rows - full, kc, mr, out + full * pairs);
}

// `pf_lines` cache lines from `pf` are prefetched, one per `pf_every` K pairs (see gemm.h).
template <int MR>
inline void MicroKernel(const uint32_t* a, const uint16_t* b, int64_t pairs, float* c, int64_t ldc, __mmask16 mask0,
                        __mmask16 mask1, bool accumulate, const char* pf, int64_t pf_lines) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  const int64_t pf_every = pf_lines > 0 ? std::max<int64_t>(1, pairs / pf_lines) : pairs;
  for (int64_t k0 = 0; k0 < pairs; k0 += pf_every) {
    if (pf_lines-- > 0) {
      _mm_prefetch(pf, _MM_HINT_T1);
      pf += 64;
    }
    const int64_t k1 = std::min(pairs, k0 + pf_every);
    for (int64_t kp = k0; kp < k1; ++kp) {
      const __m512bh b0 = (__m512bh)_mm512_load_si512(b + kp * 64);
      const __m512bh b1 = (__m512bh)_mm512_load_si512(b + kp * 64 + 32);
#pragma GCC unroll 12
      for (int i = 0; i < MR; ++i) {
        const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[kp * kMr + i]));
        acc0[i] = _mm512_dpbf16_ps(acc0[i], av, b0);
        acc1[i] = _mm512_dpbf16_ps(acc1[i], av, b1);
      }
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

using KernelFn = void (*)(const uint32_t*, const uint16_t*, int64_t, float*, int64_t, __mmask16, __mmask16, bool,
                          const char*, int64_t);
constexpr KernelFn kKernels[kMr + 1] = {nullptr,         MicroKernel<1>,  MicroKernel<2>, MicroKernel<3>, MicroKernel<4>,
                                        MicroKernel<5>,  MicroKernel<6>,  MicroKernel<7>, MicroKernel<8>, MicroKernel<9>,
                                        MicroKernel<10>, MicroKernel<11>, MicroKernel<12>};

void Tile(const void* a_v, const void* panel_v, int64_t kc, float* c, int64_t ldc, int64_t rows, int64_t cols,
          bool accumulate, const void* prefetch, int64_t prefetch_bytes) {
  const uint32_t* a = static_cast<const uint32_t*>(a_v);
  const uint16_t* panel = static_cast<const uint16_t*>(panel_v);
  const int64_t pairs = (kc + 1) / 2;
  const __mmask16 m0 = avx512::MaskFor(cols), m1 = avx512::MaskFor(cols - 16);
  PrefetchSpread pf(prefetch, prefetch_bytes, (rows + kMr - 1) / kMr);
  for (int64_t r = 0; r < rows; r += kMr, pf.advance()) {
    kKernels[std::min<int64_t>(kMr, rows - r)](a + r * pairs, panel, pairs, c + r * ldc, ldc, m0, m1, accumulate,
                                               pf.at(), pf.lines());
  }
}

}  // namespace

const GemmKernel& GemmKernelAvx512Bf16() {
  static const GemmKernel k{"avx512-bf16", DType::kBF16, 32, kMr, 2, PackABf16, Tile, EpilogueAvx512};
  return k;
}

}  // namespace accel::cpu
