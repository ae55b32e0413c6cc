#pragma once
// Lane masks for the partial last vector of a row (AVX-512 files only).
#include <immintrin.h>

#include <cstdint>

namespace accel::cpu::avx512 {
inline __mmask16 MaskFor(int64_t n) { return n >= 16 ? 0xffff : static_cast<__mmask16>((1u << (n < 0 ? 0 : n)) - 1); }
}  // namespace accel::cpu::avx512
