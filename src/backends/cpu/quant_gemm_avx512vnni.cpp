// AVX512-VNNI kernels for quantized Linear (layout and arithmetic in quant_gemm.h): per
// group-block one 64-byte load feeds vpdpbusd for up to 8 activation rows, each row's int32
// lanes being the 16 outputs of the group. Decode (one row) streams the packed weight once;
// prefill reuses each group (tens of KiB, resident in L2) for every tile of 8 rows.
#include <immintrin.h>

#include <cmath>

#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/quant_gemm.h"

namespace accel::cpu {

namespace {

constexpr int kMaxTileRows = 8;
// Software prefetch distance for decode: measured best of 0-24 KiB (8 KiB: Q4_0 36 -> 44 GB/s on one
// thread; the f32/bf16 panels stream at the machine's bandwidth without it).
constexpr int64_t kPrefetchBytes = 8192;

inline __m512i Broadcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// One group (16 outputs) for R activation rows starting at r0.
template <DType T, int R>
void GroupTile(const uint8_t* group, const QuantizedRows& x, int64_t r0, float* y, int64_t ldy, __mmask16 store_mask) {
  constexpr int32_t offset = T == DType::kQ8_0 ? 128 : 8;
  constexpr int64_t qbytes = T == DType::kQ8_0 ? 512 : 256;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 accf[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) accf[r] = _mm512_setzero_ps();
  const int8_t* xq = x.q + r0 * x.k;
  const float* xd = x.d + r0 * x.blocks;
  const int32_t* xs = x.s + r0 * x.blocks;
  for (int64_t b = 0; b < x.blocks; ++b) {
    const uint8_t* gb = group + QuantIntsOffset(qbytes, x.blocks, b);
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(group + QuantScalesOffset(qbytes, x.blocks, b));
    if constexpr (R <= 2) {
      // Decode streams the weight once: keep loads in flight ahead of the hardware prefetchers
      // (the stream runs on into the next group, which follows in memory).
#pragma GCC unroll 9
      for (int64_t off = 0; off < qbytes + 32; off += 64) _mm_prefetch(reinterpret_cast<const char*>(gb) + kPrefetchBytes + off, _MM_HINT_T0);
    }
    // With one or two rows a block's 8 dependent vpdpbusd (~40 cycles) would outlast the time
    // its 288-544 bytes take to arrive, so the block is split over two chains.
    constexpr int C = R == 1 ? 4 : R == 2 ? 2 : 1;
    __m512i acc[C][R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      acc[0][r] = _mm512_set1_epi32(-offset * xs[r * x.blocks + b]);
      for (int c = 1; c < C; ++c) acc[c][r] = _mm512_setzero_si512();
    }
    const int8_t* xb = xq + b * kQuantBlock;
    if constexpr (T == DType::kQ8_0) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m512i wv = _mm512_loadu_si512(gb + 64 * j);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[j % C][r] = _mm512_dpbusd_epi32(acc[j % C][r], wv, Broadcast4(xb + r * x.k + 4 * j));
      }
    } else {
#pragma GCC unroll 4
      for (int o = 0; o < 4; ++o) {
        const __m512i v = _mm512_loadu_si512(gb + 64 * o);
        const __m512i lo = _mm512_and_si512(v, low4);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          acc[(2 * o) % C][r] = _mm512_dpbusd_epi32(acc[(2 * o) % C][r], lo, Broadcast4(xb + r * x.k + 8 * o));
          acc[(2 * o + 1) % C][r] = _mm512_dpbusd_epi32(acc[(2 * o + 1) % C][r], hi, Broadcast4(xb + r * x.k + 8 * o + 4));
        }
      }
    }
    if constexpr (C == 4) {
      for (int r = 0; r < R; ++r) acc[0][r] = _mm512_add_epi32(_mm512_add_epi32(acc[0][r], acc[1][r]), _mm512_add_epi32(acc[2][r], acc[3][r]));
    } else if constexpr (C == 2) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[0][r] = _mm512_add_epi32(acc[0][r], acc[1][r]);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales)));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(xd[r * x.blocks + b]));
      accf[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[0][r]), scale, accf[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + (r0 + r) * ldy, store_mask, accf[r]);
}

template <DType T>
void Gemm(const uint8_t* w, int64_t groups, const QuantizedRows& x, int64_t rows, float* y, int64_t ldy, int64_t n_left) {
  using TileFn = void (*)(const uint8_t*, const QuantizedRows&, int64_t, float*, int64_t, __mmask16);
  static constexpr TileFn tiles[kMaxTileRows + 1] = {nullptr,          GroupTile<T, 1>, GroupTile<T, 2>,
                                                     GroupTile<T, 3>,  GroupTile<T, 4>, GroupTile<T, 5>,
                                                     GroupTile<T, 6>,  GroupTile<T, 7>, GroupTile<T, 8>};
  const size_t group_bytes = static_cast<size_t>(x.blocks) * (T == DType::kQ8_0 ? 512 + 32 : 256 + 32);
  for (int64_t g = 0; g < groups; ++g) {
    const __mmask16 mask = avx512::MaskFor(n_left - g * kQuantGroupRows);
    for (int64_t r0 = 0; r0 < rows; r0 += kMaxTileRows) {
      const int64_t r = std::min<int64_t>(kMaxTileRows, rows - r0);
      tiles[r](w + g * group_bytes, x, r0, y + g * kQuantGroupRows, ldy, mask);
    }
  }
}

// The scalar quantizer's arithmetic (quant_gemm.cpp) 16 lanes at a time: the same max, the
// same 127 / max, the same round-to-nearest-even, so both produce identical integers.
void QuantizeRows(const float* x, int64_t rows, int64_t ldx, int64_t k, int8_t* q, float* d, int32_t* s) {
  const int64_t blocks = k / kQuantBlock;
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < blocks; ++b) {
      const float* xb = x + r * ldx + b * kQuantBlock;
      const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(inv)));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(inv)));
      int8_t* qb = q + r * k + b * kQuantBlock;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qb), _mm512_cvtsepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qb + 16), _mm512_cvtsepi32_epi8(q1));
      d[r * blocks + b] = amax / 127.0f;
      s[r * blocks + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

}  // namespace

const QuantKernels& QuantKernelsAvx512Vnni() {
  static const QuantKernels k{"avx512-vnni", Gemm<DType::kQ8_0>, Gemm<DType::kQ4_0>, QuantizeRows};
  return k;
}

}  // namespace accel::cpu
