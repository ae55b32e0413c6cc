// AVX-512 quantized dot products: int8 (or nibbles - 8) widened to f32 in registers, fused
// multiply-add with the activations, one scale per 32-weight block.
#include <immintrin.h>

#include "backends/cpu/quant_dot.h"
#include "core/half.h"

namespace accel::cpu {

namespace {
inline float Hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

void RowsQ8_0(const void* w_row, int64_t blocks, const float* x, int64_t ldx, int64_t rows, float* out, int64_t ldo) {
  const auto* w = static_cast<const quant::BlockQ8_0*>(w_row);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
      const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs + 16));
      const __m512 f0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0));
      const __m512 f1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1));
      __m512 s = _mm512_mul_ps(f0, _mm512_loadu_ps(xr + b * 32));
      s = _mm512_fmadd_ps(f1, _mm512_loadu_ps(xr + b * 32 + 16), s);
      acc = _mm512_fmadd_ps(s, _mm512_set1_ps(F16ToF32(w[b].d)), acc);
    }
    out[r * ldo] = Hsum(acc);
  }
}

void RowsQ4_0(const void* w_row, int64_t blocks, const float* x, int64_t ldx, int64_t rows, float* out, int64_t ldo) {
  const auto* w = static_cast<const quant::BlockQ4_0*>(w_row);
  const __m512i eight = _mm512_set1_epi32(8), low = _mm512_set1_epi32(0x0F);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs)));
      const __m512 lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(bytes, low), eight));
      const __m512 hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bytes, 4), eight));
      __m512 s = _mm512_mul_ps(lo, _mm512_loadu_ps(xr + b * 32));
      s = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + b * 32 + 16), s);
      acc = _mm512_fmadd_ps(s, _mm512_set1_ps(F16ToF32(w[b].d)), acc);
    }
    out[r * ldo] = Hsum(acc);
  }
}
}  // namespace

const QuantDotKernels& QuantDotAvx512() {
  static const QuantDotKernels k{RowsQ8_0, RowsQ4_0};
  return k;
}

}  // namespace accel::cpu
