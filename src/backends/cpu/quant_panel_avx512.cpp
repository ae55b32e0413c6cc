// AVX-512 panel decoding: 16 weight rows at a time. One gather fetches the same four bytes of a
// block from 16 rows, which are four (Q8_0) or eight (Q4_0) consecutive k positions of 16
// columns: the transposition into the k-major panel comes free with the load.
#include <immintrin.h>

#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/quant_panel.h"
#include "formats/quant.h"

namespace accel::cpu {

namespace {

// Scales (fp16 at the start of each block) of 16 rows, as f32.
inline __m512 Scales(const uint8_t* blocks, __m512i offsets, __mmask16 m) {
  const __m512i d = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, blocks, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d));
}

void DecodeQ8_0(const uint8_t* rows, size_t row_bytes, int64_t cols, int64_t k0, int64_t kc, float* out, int64_t nr) {
  constexpr int64_t kBlockBytes = sizeof(quant::BlockQ8_0);
  for (int64_t j0 = 0; j0 < nr; j0 += 16) {
    const __mmask16 m = avx512::MaskFor(cols - j0);
    const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(static_cast<int>(row_bytes)));
    for (int64_t b = 0; b < kc / quant::kBlock; ++b) {
      const uint8_t* blocks = rows + j0 * row_bytes + (k0 / quant::kBlock + b) * kBlockBytes;
      const __m512 d = Scales(blocks, offsets, m);
      float* dst = out + b * quant::kBlock * nr + j0;
      for (int t = 0; t < quant::kBlock / 4; ++t) {
        const __m512i q = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, blocks + 2 + 4 * t, 1);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          // byte i of each lane, sign-extended
          const __m512i v = _mm512_srai_epi32(_mm512_slli_epi32(q, 24 - 8 * i), 24);
          _mm512_store_ps(dst + (4 * t + i) * nr, _mm512_mul_ps(d, _mm512_cvtepi32_ps(v)));
        }
      }
    }
  }
}

void DecodeQ4_0(const uint8_t* rows, size_t row_bytes, int64_t cols, int64_t k0, int64_t kc, float* out, int64_t nr) {
  constexpr int64_t kBlockBytes = sizeof(quant::BlockQ4_0);
  const __m512i nibble = _mm512_set1_epi32(0xf), eight = _mm512_set1_epi32(8);
  for (int64_t j0 = 0; j0 < nr; j0 += 16) {
    const __mmask16 m = avx512::MaskFor(cols - j0);
    const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(static_cast<int>(row_bytes)));
    for (int64_t b = 0; b < kc / quant::kBlock; ++b) {
      const uint8_t* blocks = rows + j0 * row_bytes + (k0 / quant::kBlock + b) * kBlockBytes;
      const __m512 d = Scales(blocks, offsets, m);
      float* dst = out + b * quant::kBlock * nr + j0;
      for (int t = 0; t < quant::kBlock / 8; ++t) {
        // bytes 4t..4t+3: weights 4t+i in their low nibbles, 16+4t+i in their high nibbles
        const __m512i q = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, blocks + 2 + 4 * t, 1);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const __m512i lo = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(q, 8 * i), nibble), eight);
          const __m512i hi = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(q, 8 * i + 4), nibble), eight);
          // masked-off rows gathered zeros, which decode to -8: the zero scale keeps them 0
          _mm512_store_ps(dst + (4 * t + i) * nr, _mm512_mul_ps(d, _mm512_cvtepi32_ps(lo)));
          _mm512_store_ps(dst + (16 + 4 * t + i) * nr, _mm512_mul_ps(d, _mm512_cvtepi32_ps(hi)));
        }
      }
    }
  }
}

}  // namespace

const QuantPanelKernels& QuantPanelAvx512() {
  static const QuantPanelKernels k{DecodeQ8_0, DecodeQ4_0};
  return k;
}

}  // namespace accel::cpu
