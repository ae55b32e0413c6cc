#pragma once
// Sixteen 16-bit floats widened to f32, exactly (AVX-512 files only): the one load of the
// 16-bit-weight kernels, GEMM (gemm_halfw_avx512.cpp) and decode (gemv_halfw_avx512.cpp).
#include <immintrin.h>

#include <cstdint>

namespace accel::cpu::avx512 {

inline __m512 LoadF16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// bf16 is the top half of an f32: widen to 32 bits and shift into place.
inline __m512 LoadBf16(const uint16_t* p) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

}  // namespace accel::cpu::avx512
