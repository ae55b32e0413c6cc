#pragma once
// K-quant dot-product kernels (arithmetic in kquant_gemm.h), compiled twice: by
// kquant_gemm_avx2.cpp (256-bit, vpmaddubsw + vpmaddwd) and by kquant_gemm_avx512vnni.cpp
// (512-bit, vpmaddubsw + vpdpwssd). Include only from those files, after defining
// KQUANT_KERNELS_FN and KQUANT_KERNELS_NAME.
//
// Shape of every kernel: one weight row against a tile of R <= 8 (AVX2: 4) activation rows. A weight
// super-block is unpacked to unsigned bytes once and multiplied into all R rows, so prefill
// pays the unpacking (the part activations cannot share) once per 8 (4) rows; decode (R = 1) is a
// single stream over the row. Weights are the unsigned operand of vpmaddubsw (0..63) and
// activations the signed one (-127..127), so the int16 pair sums (at most 2 * 63 * 127) never
// saturate; the sub-block scale multiplies in vpmaddwd/vpdpwssd, exact in int32.
//
// Prefill in the 512-bit build (m >= 8-12 rows; Q4_K, Q5_K, Q6_K, Q3_K, Q2_K): 16 weight
// rows at a time are unpacked once per call into a scratch group laid out like Q4_0's
// (quant_gemm.h), and tiles of 8 activation rows run one vpdpbusd per 4 k and 16 outputs over it
// (GemmGrouped below): 2.6-3x the one-row tiles' rate on this machine, same integer sums.
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "backends/cpu/kquant_gemm.h"

namespace accel::cpu {
namespace {

using quant::BlockQ4_K;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define KQ_512 1
#else
#define KQ_512 0
#endif

inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// acc += a * b over int16 pairs.
inline __m256i MulAddPairs(__m256i acc, __m256i a, __m256i b) {
#if KQ_512
  return _mm256_dpwssd_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// Decode reads each weight byte once: keep loads in flight ahead of the hardware prefetchers
// (the rows of a call are contiguous, so the stream runs on into the next row). 8 KiB is the
// distance the Q4_0 kernel measured best (quant_gemm_avx512vnni.cpp).
constexpr int64_t kPrefetchBytes = 8192;
template <int R, typename Block>
inline void PrefetchAhead(const Block& blk) {
  if constexpr (R == 1) {
    const char* p = reinterpret_cast<const char*>(&blk) + kPrefetchBytes;
    for (size_t off = 0; off < sizeof(Block) + 63; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
  }
}

// A Q4_K/Q5_K block's 8 scales (bytes 0-7) and 8 mins (bytes 8-15) out of its 12 packed
// bytes, four 32-bit operations instead of sixteen 6-bit extractions.
inline void UnpackScalesMins(const uint8_t* packed, uint32_t out[4]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  std::memcpy(out, packed, 12);
  out[3] = ((out[2] >> 4) & kLow4) | (((out[1] >> 6) & kLow2) << 4);
  const uint32_t mins_lo = out[1] & kLow6;
  out[1] = (out[2] & kLow4) | (((out[0] >> 6) & kLow2) << 4);
  out[2] = mins_lo;
  out[0] &= kLow6;
}

// Q4_K and Q5_K share everything but the fifth bit.
template <bool kFive, int R>
void TileScaleMin(const uint8_t* wrow, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const Block* w = reinterpret_cast<const Block*>(wrow);
  // Each min is paired with the sums of its two 16-element halves: duplicate it per int16 lane.
  const __m128i dup_pairs = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
#if KQ_512
  // The integer sums stay 512-bit to the f32 accumulator: folding them to 256 bits per block
  // cost two of the ~8 instructions a row spends outside the dot products.
  __m512 acc512[R];
  for (int r = 0; r < R; ++r) acc512[r] = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);
  // Lower 256 bits take a chunk's low nibbles (its first sub-block), upper 256 its high ones.
  const __m512i nibble_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
#else
  const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
#endif
  for (int64_t b = 0; b < nb; ++b) {
    const Block& blk = w[b];
    PrefetchAhead<R>(blk);
    uint32_t sm[4];
    UnpackScalesMins(blk.scales, sm);
    const __m128i sm128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm));
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm128, dup_pairs));
#if KQ_512
    const __m512i scales = _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(sm128));  // lanes 0-7 (and 8-15 mins)
    __m512i sumi512[R];
    for (int r = 0; r < R; ++r) sumi512[r] = _mm512_setzero_si512();
    [[maybe_unused]] __m512i hbits;
    if constexpr (kFive) hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c)));
      __m512i v = _mm512_and_si512(_mm512_srlv_epi16(q, nibble_shift), low4);
      if constexpr (kFive) {
        // Bit 2c of qh for the low half, 2c + 1 for the high half, moved to bit 4.
        const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * c)), _mm256_set1_epi16(static_cast<short>(2 * c + 1)), 1);
        v = _mm512_or_si512(v, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hbits, shift), one), 4));
      }
      const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * c)), _mm256_set1_epi16(static_cast<short>(2 * c + 1)), 1);
      const __m512i sc = _mm512_permutexvar_epi16(idx, scales);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512i p = _mm512_maddubs_epi16(v, _mm512_loadu_si512(x[r * nb + b].qs + 64 * c));
        sumi512[r] = _mm512_dpwssd_epi32(sumi512[r], p, sc);
      }
    }
    const float d = _cvtsh_ss(blk.d);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc512[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * nb + b].d * d), _mm512_cvtepi32_ps(sumi512[r]), acc512[r]);
#else
    __m256i sumi[R];
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
    const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm128));
    [[maybe_unused]] __m256i hbits;
    if constexpr (kFive) hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
      __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      if constexpr (kFive) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);  // bits crossing in from the next byte land above bit 1
      }
      const __m256i sc_lo = _mm256_shuffle_epi8(scales, _mm256_set1_epi16(static_cast<short>(((4 * c + 1) << 8) | (4 * c))));
      const __m256i sc_hi = _mm256_shuffle_epi8(scales, _mm256_set1_epi16(static_cast<short>(((4 * c + 3) << 8) | (4 * c + 2))));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const int8_t* xq = x[r * nb + b].qs + 64 * c;
        const __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq)));
        const __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32)));
        sumi[r] = MulAddPairs(MulAddPairs(sumi[r], p0, sc_lo), p1, sc_hi);
      }
    }
    const float d = _cvtsh_ss(blk.d);  // F16C: the portable F16ToF32 branches
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(x[r * nb + b].d * d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
#endif
    const float dmin = _cvtsh_ss(blk.dmin);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8_K& xb = x[r * nb + b];
      const __m256i msum = _mm256_madd_epi16(mins, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.bsums)));
      acc[r] = _mm256_fnmadd_ps(_mm256_set1_ps(xb.d * dmin), _mm256_cvtepi32_ps(msum), acc[r]);
    }
  }
#if KQ_512
  for (int r = 0; r < R; ++r) {
    acc[r] = _mm256_add_ps(acc[r], _mm256_add_ps(_mm512_castps512_ps256(acc512[r]), _mm512_extractf32x8_ps(acc512[r], 1)));
  }
#endif
  for (int r = 0; r < R; ++r) y[r * ldy] = HSum(acc[r]);
}

#if KQ_512
alignas(64) constexpr int16_t kLanes16[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                              16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
#endif

template <int R>
void TileQ6K(const uint8_t* wrow, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) {
  const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(wrow);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
#if KQ_512
  const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
#else
  const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(3);
#endif
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& blk = w[b];
    PrefetchAhead<R>(blk);
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
    __m256i sumi[R];
#if KQ_512
    const __m512i sc512 = _mm512_zextsi256_si512(sc16);
    __m512i sumi512[R];
    for (int r = 0; r < R; ++r) sumi512[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      // ql[64h .. 64h + 64) low nibbles are weights 128h + [0, 64), high nibbles 128h + [64, 128);
      // qh's 2-bit fields 0/1 and 2/3 go with them, low half / high half.
      const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h)));
#pragma GCC unroll 2
      for (int part = 0; part < 2; ++part) {
        const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(4 * part)), _mm256_set1_epi16(static_cast<short>(4 * part + 2)), 1);
        const __m512i lows = part == 0 ? _mm512_and_si512(ql, low4) : _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4);
        const __m512i v = _mm512_or_si512(lows, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift), low2), 4));
        // int16 lane l (bytes 2l, 2l + 1) belongs to sub-block 8h + 4 part + l / 8.
        const __m512i idx = _mm512_add_epi16(_mm512_set1_epi16(static_cast<short>(8 * h + 4 * part)),
                                             _mm512_srli_epi16(_mm512_loadu_si512(kLanes16), 3));
        const __m512i sc = _mm512_permutexvar_epi16(idx, sc512);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512i p = _mm512_maddubs_epi16(v, _mm512_loadu_si512(x[r * nb + b].qs + 128 * h + 64 * part));
          sumi512[r] = _mm512_dpwssd_epi32(sumi512[r], p, sc);
        }
      }
    }
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_add_epi32(_mm512_castsi512_si256(sumi512[r]), _mm512_extracti64x4_epi64(sumi512[r], 1));
#else
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4)),
      };
      // The half's 8 scales in both 128-bit lanes; each 32 weights take two of them, the first
      // for the low lane's 16, the second for the high lane's.
      const __m256i half_sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.scales + 8 * h))));
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const short lo = static_cast<short>(((4 * g + 1) << 8) | (4 * g)), hi = static_cast<short>(((4 * g + 3) << 8) | (4 * g + 2));
        const __m256i sc = _mm256_shuffle_epi8(half_sc, _mm256_setr_epi16(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r * nb + b].qs + 128 * h + 32 * g));
          sumi[r] = MulAddPairs(sumi[r], _mm256_maddubs_epi16(q[g], xv), sc);
        }
      }
    }
#endif
    const float d = _cvtsh_ss(blk.d);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8_K& xb = x[r * nb + b];
      // The -32 of every weight: 32 * sum_j sc_j * bsum_j, subtracted exactly in int32.
      const __m256i offset = _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.bsums)));
      const __m256i s = _mm256_sub_epi32(sumi[r], _mm256_slli_epi32(offset, 5));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(xb.d * d), _mm256_cvtepi32_ps(s), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = HSum(acc[r]);
}

// Scales for one 32-weight group as int16 lanes: lanes 0-7 (its first 16 weights' pair sums) take
// a, lanes 8-15 take b.
inline __m256i PairScales(int a, int b) { return _mm256_setr_m128i(_mm_set1_epi16(static_cast<short>(a)), _mm_set1_epi16(static_cast<short>(b))); }

// Q3_K and Q2_K: 2 low bits of weight 128h + 32c + l at bits 2c of qs[32h + l]; one 32-byte load
// per half gives the four groups by shifts. Q3_K adds the high bit from hmask (bit 4h + c), so
// its unsigned operand is v = q + 4 in 0..7 (the -4 comes back through the bsums); Q2_K's is q.
// The 512-bit build takes two groups per step (vpsrlvw, vpermw for the scales, vpdpwssd).
template <bool kThree, int R>
void TileLowBit(const uint8_t* wrow, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) {
  using Block = std::conditional_t<kThree, quant::BlockQ3_K, quant::BlockQ2_K>;
  const Block* w = reinterpret_cast<const Block*>(wrow);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
#if !KQ_512
  const __m256i low2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
#endif
  for (int64_t b = 0; b < nb; ++b) {
    const Block& blk = w[b];
    PrefetchAhead<R>(blk);
    alignas(32) int16_t sc[16];
    __m256i offs16;  // Q3_K: the signed scales; Q2_K: the mins (each times bsum_j)
    if constexpr (kThree) {
      // The 16 6-bit scales in four 32-bit steps (quant::ScaleQ3K, four at a time), minus 32.
      constexpr uint32_t kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
      uint32_t a[3], u[4];
      std::memcpy(a, blk.scales, 12);
      u[0] = (a[0] & kLow4) | ((a[2] & kLow2) << 4);
      u[1] = (a[1] & kLow4) | (((a[2] >> 2) & kLow2) << 4);
      u[2] = ((a[0] >> 4) & kLow4) | (((a[2] >> 4) & kLow2) << 4);
      u[3] = ((a[1] >> 4) & kLow4) | (((a[2] >> 6) & kLow2) << 4);
      offs16 = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(u[0]), static_cast<int>(u[1]), static_cast<int>(u[2]), static_cast<int>(u[3]))), _mm256_set1_epi16(32));
      _mm256_store_si256(reinterpret_cast<__m256i*>(sc), offs16);
    } else {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
      _mm256_store_si256(reinterpret_cast<__m256i*>(sc), _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(15))));
      offs16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
    }
    __m256i sumi[R];
#if KQ_512
    // 64 weights per step: groups 2p and 2p + 1 of a half, one in each 256-bit lane (their
    // activations are contiguous), with Q6_K's per-lane scale permutation.
    const __m512i sc512 = _mm512_zextsi256_si512(_mm256_load_si256(reinterpret_cast<const __m256i*>(sc)));
    const __m512i low2x = _mm512_set1_epi8(3), onex = _mm512_set1_epi8(1);
    __m512i sumi512[R];
    for (int r = 0; r < R; ++r) sumi512[r] = _mm512_setzero_si512();
    __m512i hm512;
    if constexpr (kThree) hm512 = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.hmask)));
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i qs = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * h)));
#pragma GCC unroll 2
      for (int part = 0; part < 2; ++part) {
        const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(4 * part)), _mm256_set1_epi16(static_cast<short>(4 * part + 2)), 1);
        __m512i v = _mm512_and_si512(_mm512_srlv_epi16(qs, shift), low2x);
        if constexpr (kThree) {
          const __m512i hshift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(4 * h + 2 * part)),
                                                    _mm256_set1_epi16(static_cast<short>(4 * h + 2 * part + 1)), 1);
          v = _mm512_or_si512(v, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hm512, hshift), onex), 2));
        }
        const __m512i idx = _mm512_add_epi16(_mm512_set1_epi16(static_cast<short>(8 * h + 4 * part)),
                                             _mm512_srli_epi16(_mm512_loadu_si512(kLanes16), 3));
        const __m512i scv = _mm512_permutexvar_epi16(idx, sc512);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512i p = _mm512_maddubs_epi16(v, _mm512_loadu_si512(x[r * nb + b].qs + 128 * h + 64 * part));
          sumi512[r] = _mm512_dpwssd_epi32(sumi512[r], p, scv);
        }
      }
    }
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_add_epi32(_mm512_castsi512_si256(sumi512[r]), _mm512_extracti64x4_epi64(sumi512[r], 1));
#else
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
    __m256i hm;
    if constexpr (kThree) hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.hmask));
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * h));
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        __m256i v = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * c), low2);
        if constexpr (kThree) {
          const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + c), one);
          v = _mm256_or_si256(v, _mm256_slli_epi16(hb, 2));
        }
        const int j = 8 * h + 2 * c;
        const __m256i scv = PairScales(sc[j], sc[j + 1]);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r * nb + b].qs + 128 * h + 32 * c));
          sumi[r] = MulAddPairs(sumi[r], _mm256_maddubs_epi16(v, xv), scv);
        }
      }
    }
#endif
    const float d = _cvtsh_ss(blk.d);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8_K& xb = x[r * nb + b];
      const __m256i offset = _mm256_madd_epi16(offs16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.bsums)));
      if constexpr (kThree) {
        const __m256i s = _mm256_sub_epi32(sumi[r], _mm256_slli_epi32(offset, 2));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(xb.d * d), _mm256_cvtepi32_ps(s), acc[r]);
      } else {
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(xb.d * d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
        acc[r] = _mm256_fnmadd_ps(_mm256_set1_ps(xb.d * _cvtsh_ss(blk.dmin)), _mm256_cvtepi32_ps(offset), acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = HSum(acc[r]);
}

// IQ4_NL: a 32-block's indices through the 16-entry grid (vpshufb), then the signed grid values
// times the activations as |w| * (x signed like w) (pairs at most 2 * 127 * 127, no saturation).
template <int R>
void TileIQ4NL(const uint8_t* wrow, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) {
  const quant::BlockIQ4_NL* w = reinterpret_cast<const quant::BlockIQ4_NL*>(wrow);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIq4nlValues)));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<R>(*reinterpret_cast<const uint8_t(*)[144]>(w + 8 * b));
#pragma GCC unroll 2
    for (int g = 0; g < 8; ++g) {
      const quant::BlockIQ4_NL& blk = w[8 * b + g];
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs));
      const __m256i idx = _mm256_setr_m128i(_mm_and_si128(q, low4), _mm_and_si128(_mm_srli_epi16(q, 4), low4));
      const __m256i wv = _mm256_shuffle_epi8(grid, idx);
      const __m256i aw = _mm256_abs_epi8(wv);
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(blk.d));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const BlockQ8_K& xb = x[r * nb + b];
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 32 * g));
        const __m256i s = MulAddPairs(_mm256_setzero_si256(), _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv)), ones);
        acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(xb.d)), _mm256_cvtepi32_ps(s), acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = HSum(acc[r]);
}

// IQ4_XS: IQ4_NL's grid lookup (vpshufb) and |w| * (x signed like w) per 32 weights, with the
// sub-block's 6-bit scale applied to the int16 pair sums in vpmaddwd/vpdpwssd (at most
// 2 * 127 * 127 * 32 per lane, exact in int32) and one f32 multiply per super-block instead of
// IQ4_NL's one per 32. The 512-bit build takes two sub-blocks per step (AVX-512 has no vpsignb:
// the activations are negated under the weights' sign mask instead).
template <int R>
void TileIQ4XS(const uint8_t* wrow, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) {
  const quant::BlockIQ4_XS* w = reinterpret_cast<const quant::BlockIQ4_XS*>(wrow);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const __m128i grid128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIq4nlValues));
#if KQ_512
  const __m512i grid = _mm512_broadcast_i32x4(grid128);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
#else
  const __m256i grid = _mm256_broadcastsi128_si256(grid128);
  const __m128i low4 = _mm_set1_epi8(0x0F);
#endif
  for (int64_t b = 0; b < nb; ++b) {
    const quant::BlockIQ4_XS& blk = w[b];
    PrefetchAhead<R>(blk);
    __m256i sumi[R];
#if KQ_512
    __m512i sumi512[R];
    for (int r = 0; r < R; ++r) sumi512[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      // Bytes 32p..32p+32 hold sub-blocks 2p and 2p + 1; in activation order their weights are
      // [low nibbles of the first 16 bytes, their high nibbles, the same of the next 16].
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * p));
      const __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_permute2x128_si256(lo, hi, 0x20)),
                                             _mm256_permute2x128_si256(lo, hi, 0x31), 1);
      const __m512i wv = _mm512_shuffle_epi8(grid, idx);
      const __m512i aw = _mm512_abs_epi8(wv);
      const __mmask64 negative = _mm512_movepi8_mask(wv);
      const __m512i sc = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(quant::ScaleIQ4XS(blk, 2 * p))),
                                            _mm256_set1_epi16(static_cast<short>(quant::ScaleIQ4XS(blk, 2 * p + 1))), 1);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512i xv = _mm512_loadu_si512(x[r * nb + b].qs + 64 * p);
        const __m512i xs = _mm512_mask_sub_epi8(xv, negative, _mm512_setzero_si512(), xv);  // |x| <= 127: no overflow
        sumi512[r] = _mm512_dpwssd_epi32(sumi512[r], _mm512_maddubs_epi16(aw, xs), sc);
      }
    }
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_add_epi32(_mm512_castsi512_si256(sumi512[r]), _mm512_extracti64x4_epi64(sumi512[r], 1));
#else
    for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int j = 0; j < 8; ++j) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs + 16 * j));
      const __m256i idx = _mm256_setr_m128i(_mm_and_si128(q, low4), _mm_and_si128(_mm_srli_epi16(q, 4), low4));
      const __m256i wv = _mm256_shuffle_epi8(grid, idx);
      const __m256i aw = _mm256_abs_epi8(wv);
      const __m256i sc = _mm256_set1_epi16(static_cast<short>(quant::ScaleIQ4XS(blk, j)));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r * nb + b].qs + 32 * j));
        sumi[r] = MulAddPairs(sumi[r], _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv)), sc);
      }
    }
#endif
    const float d = _cvtsh_ss(blk.d);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(x[r * nb + b].d * d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
  }
  for (int r = 0; r < R; ++r) y[r * ldy] = HSum(acc[r]);
}

struct Q4K {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileScaleMin<false, R>(w, x, nb, y, ldy); }
};
struct Q5K {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileScaleMin<true, R>(w, x, nb, y, ldy); }
};
struct Q6K {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileQ6K<R>(w, x, nb, y, ldy); }
};

struct Q3K {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileLowBit<true, R>(w, x, nb, y, ldy); }
};
struct Q2K {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileLowBit<false, R>(w, x, nb, y, ldy); }
};
struct IQ4NL {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileIQ4NL<R>(w, x, nb, y, ldy); }
};

struct IQ4XS {
  template <int R>
  static void Tile(const uint8_t* w, const BlockQ8_K* x, int64_t nb, float* y, int64_t ldy) { TileIQ4XS<R>(w, x, nb, y, ldy); }
};

#if KQ_512
// ---- Prefill: 16-row groups repacked per call (the Q4_0 structure, quant_gemm.h) ----
//
// For m >= G::kMinRows a stretch of 16 weight rows is unpacked once per call into a scratch
// group (this thread's, L2-resident), then every tile of up to 8 activation rows runs over it
// with one vpdpbusd per 4 k, 16 outputs and activation row: the weights as unsigned bytes
// [k-quad][16 outputs][4], the activations' 4 bytes broadcast. Each 16-element sub-block's
// int32 sum is scaled in integers, so the super-block's integer sums are those of the scalar
// reference:
//  - kDpwssd (Q4_K, Q2_K, Q3_K: a 16-sum is at most 16 * 15 * 127 = 30480 and fits int16): the
//    sum's low int16 times the scale stored as the int16 pair (scale, 0), one vpdpwssd;
//  - otherwise (Q5_K, Q6_K): vpmulld by the scale, per 16 (Q6_K) or per 32 (Q5_K).
// The mins (Q4_K, Q2_K) or offsets (Q3_K's 4, Q6_K's 32 times the scale) are int16 pairs per
// output times the activations' 16-sums (Q8_K bsums) in vpdpwssd; offsets are subtracted in
// int32, mins get their own d_x * dmin.
struct GroupSB {
  alignas(64) uint8_t w[64][64];  // [k-quad][output][4]
  int32_t sc[16][16];             // [16-block][output]: kDpwssd: (scale & 0xffff); else the scale
  int32_t mn[8][16];              // [pair][output]: int16 (min or offset of 16-block 2i, of 2i + 1);
                                  // kMin32: mins of 32-blocks 2i and 2i + 1 (i < 4)
  float d[16], dmin[16];
};
static_assert(sizeof(GroupSB) % 64 == 0, "64-byte aligned super-blocks");

// Each type's kMinRows: from there on the grouped path beats the one-row tiles, unpacking
// included (measured at k = 2048; Q6_K's and Q3_K's scales take longest to unpack).

// 16 x 16 transpose of dwords: r[i] lane j -> out[j] lane i.
inline void Transpose16(__m512i r[16], __m512i out[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), b = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
    const __m512i c = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44), e = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
    out[j] = _mm512_shuffle_i32x4(a, c, 0x88);
    out[4 + j] = _mm512_shuffle_i32x4(a, c, 0xDD);
    out[8 + j] = _mm512_shuffle_i32x4(b, e, 0x88);
    out[12 + j] = _mm512_shuffle_i32x4(b, e, 0xDD);
  }
}

// Lower 256 bits shifted right by lo, upper by hi (per int16).
inline __m512i Shifts(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(lo)), _mm256_set1_epi16(static_cast<short>(hi)), 1);
}
inline __m512i Bcast256(const uint8_t* p) { return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

// Q4_K's and Q5_K's 6-bit scales and mins of output o (both formats pack them alike): each
// sub-block scale fills `quads` consecutive entries of g.sc (Q4_K's entries are per 16 weights,
// Q5_K's per sub-block), the mins go in pairs per int32.
template <typename Block>
inline void ScalesMins4Or5(const Block& b, int o, GroupSB& g, int quads) {
  uint32_t sm[4];
  UnpackScalesMins(b.scales, sm);
  const uint8_t* s = reinterpret_cast<const uint8_t*>(sm);
  for (int j = 0; j < 8; ++j)
    for (int q = 0; q < quads; ++q) g.sc[quads * j + q][o] = s[j];
  for (int i = 0; i < 4; ++i) g.mn[i][o] = s[8 + 2 * i] | (s[9 + 2 * i] << 16);
  g.d[o] = _cvtsh_ss(b.d), g.dmin[o] = _cvtsh_ss(b.dmin);
}

// Per type: the 64 unsigned weights k in [64c, 64c + 64) of a block as one register, and the
// scales / mins / offsets and factors of one output.
struct GQ4K {
  using Block = BlockQ4_K;
  static constexpr bool kDpwssd = true, kIntOffset = false;
  static constexpr int kScaleQuads = 4, kMinRows = 8;
  static constexpr bool kMin32 = true;
  static __m512i Chunk(const Block& b, int c) {
    return _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.qs + 32 * c), Shifts(0, 4)), _mm512_set1_epi8(0x0F));
  }
  static void Scales(const Block& b, int o, GroupSB& g) { ScalesMins4Or5(b, o, g, 2); }
};
struct GQ5K {
  using Block = BlockQ5_K;
  static constexpr bool kDpwssd = false, kIntOffset = false;
  static constexpr int kScaleQuads = 8, kMinRows = 10;
  static constexpr bool kMin32 = true;
  static __m512i Chunk(const Block& b, int c) {
    const __m512i v = _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.qs + 32 * c), Shifts(0, 4)), _mm512_set1_epi8(0x0F));
    const __m512i h = _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.qh), Shifts(2 * c, 2 * c + 1)), _mm512_set1_epi8(1));
    return _mm512_or_si512(v, _mm512_slli_epi16(h, 4));
  }
  static void Scales(const Block& b, int o, GroupSB& g) { ScalesMins4Or5(b, o, g, 1); }
};
struct GQ6K {
  using Block = BlockQ6_K;
  static constexpr bool kDpwssd = false, kIntOffset = true;
  static constexpr int kScaleQuads = 4, kMinRows = 12;
  static constexpr bool kMin32 = false;
  static __m512i Chunk(const Block& b, int c) {
    const int h = c / 2, part = c % 2;
    const __m512i lo = _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512(b.ql + 64 * h), 4 * part), _mm512_set1_epi8(0x0F));
    const __m512i hi = _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.qh + 32 * h), Shifts(4 * part, 4 * part + 2)), _mm512_set1_epi8(3));
    return _mm512_or_si512(lo, _mm512_slli_epi16(hi, 4));
  }
  static void Scales(const Block& b, int o, GroupSB& g) {
    for (int j = 0; j < 16; ++j) g.sc[j][o] = b.scales[j];
    for (int i = 0; i < 8; ++i) g.mn[i][o] = static_cast<uint16_t>(32 * b.scales[2 * i]) | (static_cast<uint32_t>(static_cast<uint16_t>(32 * b.scales[2 * i + 1])) << 16);
    g.d[o] = _cvtsh_ss(b.d), g.dmin[o] = 0;
  }
};
template <bool kThree>
struct GLow {
  using Block = std::conditional_t<kThree, quant::BlockQ3_K, quant::BlockQ2_K>;
  static constexpr bool kDpwssd = true, kIntOffset = kThree;
  static constexpr int kScaleQuads = 4, kMinRows = kThree ? 10 : 8;
  static constexpr bool kMin32 = false;
  static __m512i Chunk(const Block& b, int c) {
    const int h = c / 2, c0 = 2 * (c % 2);
    __m512i v = _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.qs + 32 * h), Shifts(2 * c0, 2 * c0 + 2)), _mm512_set1_epi8(3));
    if constexpr (kThree) {
      const __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(Bcast256(b.hmask), Shifts(4 * h + c0, 4 * h + c0 + 1)), _mm512_set1_epi8(1));
      v = _mm512_or_si512(v, _mm512_slli_epi16(hb, 2));
    }
    return v;
  }
  static void Scales(const Block& b, int o, GroupSB& g) {
    int sc[16], mn[16];
    for (int j = 0; j < 16; ++j) {
      if constexpr (kThree) {
        sc[j] = quant::ScaleQ3K(b.scales, j);  // already minus 32
        mn[j] = 4 * sc[j];
      } else {
        sc[j] = b.scales[j] & 15;
        mn[j] = b.scales[j] >> 4;
      }
      g.sc[j][o] = sc[j] & 0xffff;
    }
    for (int i = 0; i < 8; ++i) g.mn[i][o] = static_cast<int32_t>(static_cast<uint16_t>(mn[2 * i]) | (static_cast<uint32_t>(static_cast<uint16_t>(mn[2 * i + 1])) << 16));
    g.d[o] = _cvtsh_ss(b.d);
    if constexpr (!kThree) g.dmin[o] = _cvtsh_ss(b.dmin);
  }
};

// Rows [j0, j0 + rows) (rows <= 16) of nb super-blocks into g[0, nb); missing rows are zero.
template <class G>
void PackGroup(const uint8_t* w, size_t row_bytes, int64_t j0, int rows, int64_t nb, GroupSB* g) {
  using Block = typename G::Block;
  for (int64_t b = 0; b < nb; ++b) {
    GroupSB& s = g[b];
    if (rows < 16) std::memset(&s, 0, sizeof(s));
    for (int o = 0; o < rows; ++o) G::Scales(reinterpret_cast<const Block*>(w + (j0 + o) * row_bytes)[b], o, s);
    for (int c = 0; c < 4; ++c) {
      __m512i r[16], t[16];
      for (int o = 0; o < 16; ++o) r[o] = o < rows ? G::Chunk(reinterpret_cast<const Block*>(w + (j0 + o) * row_bytes)[b], c) : _mm512_setzero_si512();
      Transpose16(r, t);
      for (int q = 0; q < 16; ++q) _mm512_store_si512(s.w[16 * c + q], t[q]);
    }
  }
}

inline __m512i Bcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// x32 (kMin32): per activation row and super-block, the 32-sums as int16 pairs (4 int32).
template <class G, int R>
void GroupTile(const GroupSB* g, const BlockQ8_K* x, const int32_t* x32, int64_t nb, float* y, int64_t ldy, __mmask16 store) {
  constexpr int Q = G::kScaleQuads;
  __m512 accf[R];
  for (int r = 0; r < R; ++r) accf[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupSB& s = g[b];
    __m512i sumi[R];
    for (int r = 0; r < R; ++r) sumi[r] = _mm512_setzero_si512();
#pragma GCC unroll 1
    for (int sb = 0; sb < 64 / Q; ++sb) {
      __m512i t[R];
      for (int r = 0; r < R; ++r) t[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) {
        const __m512i wv = _mm512_load_si512(s.w[Q * sb + q]);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) t[r] = _mm512_dpbusd_epi32(t[r], wv, Bcast4(x[r * nb + b].qs + 4 * (Q * sb + q)));
      }
      if constexpr (G::kDpwssd) {
        const __m512i sc = _mm512_load_si512(s.sc[sb]);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) sumi[r] = _mm512_dpwssd_epi32(sumi[r], t[r], sc);
      } else {
        const __m512i sc = _mm512_load_si512(s.sc[sb]);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) sumi[r] = _mm512_add_epi32(sumi[r], _mm512_mullo_epi32(t[r], sc));
      }
    }
    const __m512 d = _mm512_load_ps(s.d);
    [[maybe_unused]] const __m512 dmin = _mm512_load_ps(s.dmin);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8_K& xb = x[r * nb + b];
      __m512i summ = _mm512_setzero_si512();
      if constexpr (G::kMin32) {
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) summ = _mm512_dpwssd_epi32(summ, _mm512_load_si512(s.mn[i]), Bcast4(x32 + 4 * (r * nb + b) + i));
      } else {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) summ = _mm512_dpwssd_epi32(summ, _mm512_load_si512(s.mn[i]), Bcast4(xb.bsums + 2 * i));
      }
      const __m512 xd = _mm512_set1_ps(xb.d);
      if constexpr (G::kIntOffset) {
        accf[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(sumi[r], summ)), _mm512_mul_ps(xd, d), accf[r]);
      } else {
        accf[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[r]), _mm512_mul_ps(xd, d), accf[r]);
        accf[r] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(xd, dmin), accf[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, store, accf[r]);
}

template <class G>
void GemmGrouped(const uint8_t* w, size_t row_bytes, int64_t j0, int64_t j1, const BlockQ8_K* x, int64_t m, int64_t nb,
                 float* y, int64_t ldy) {
  using Fn = void (*)(const GroupSB*, const BlockQ8_K*, const int32_t*, int64_t, float*, int64_t, __mmask16);
  static constexpr Fn tiles[9] = {nullptr, GroupTile<G, 1>, GroupTile<G, 2>, GroupTile<G, 3>, GroupTile<G, 4>,
                                  GroupTile<G, 5>, GroupTile<G, 6>, GroupTile<G, 7>, GroupTile<G, 8>};
  struct Free {
    void operator()(GroupSB* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<GroupSB, Free> scratch;
  thread_local int64_t capacity = 0;
  if (capacity < nb) {
    scratch.reset(static_cast<GroupSB*>(std::aligned_alloc(64, static_cast<size_t>(nb) * sizeof(GroupSB))));
    capacity = nb;
  }
  GroupSB* g = scratch.get();
  thread_local std::vector<int32_t> sums32;
  if constexpr (G::kMin32) {
    sums32.resize(static_cast<size_t>(4 * m * nb));
    for (int64_t i = 0; i < m * nb; ++i) {
      const int16_t* bs = x[i].bsums;
      for (int p = 0; p < 4; ++p) {
        const int lo = bs[4 * p] + bs[4 * p + 1], hi = bs[4 * p + 2] + bs[4 * p + 3];  // |.| <= 32 * 127
        sums32[4 * i + p] = static_cast<int32_t>(static_cast<uint16_t>(lo) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
      }
    }
  }
  for (int64_t js = j0; js < j1; js += 16) {
    const int rows = static_cast<int>(std::min<int64_t>(16, j1 - js));
    PackGroup<G>(w, row_bytes, js, rows, nb, g);
    const __mmask16 store = static_cast<__mmask16>((1u << rows) - 1);
    for (int64_t r = 0; r < m; r += 8) {
      const int64_t rr = std::min<int64_t>(8, m - r);
      tiles[rr](g, x + r * nb, sums32.data() + 4 * r * nb, nb, y + r * ldy + js, ldy, store);
    }
  }
}
#else
using GQ4K = void;
using GQ5K = void;
using GQ6K = void;
template <bool kThree>
using GLow = void;
#endif

using TileFn = void (*)(const uint8_t*, const BlockQ8_K*, int64_t, float*, int64_t);

// Activation rows per tile: each weight super-block is unpacked once per tile, so larger tiles
// amortise the unpacking (and the scale set-up) over more rows. 512-bit code has 32 registers
// for 8 rows' int32 and f32 accumulators; AVX2's 16 hold 4.
constexpr int kMaxTileRows = KQ_512 ? 8 : 4;

// Weight rows in stretches of 16 (18-72 KiB for k = 2048-8192: L2-resident), each stretch
// against all activation rows in tiles before the next stretch is read.
// With a grouped form G (512-bit build), m >= G::kMinRows runs GemmGrouped instead.
template <class K, class G = void>
void Gemm(const uint8_t* w, size_t row_bytes, int64_t j0, int64_t j1, const BlockQ8_K* x, int64_t m, int64_t nb,
          float* y, int64_t ldy) {
#if KQ_512
  if constexpr (!std::is_void_v<G>) {
    if (m >= G::kMinRows) return GemmGrouped<G>(w, row_bytes, j0, j1, x, m, nb, y, ldy);
  }
#endif
  constexpr auto R = [](int r) { return r < kMaxTileRows ? r : kMaxTileRows; };
  static constexpr TileFn tiles[9] = {nullptr, K::template Tile<R(1)>, K::template Tile<R(2)>, K::template Tile<R(3)>,
                                      K::template Tile<R(4)>, K::template Tile<R(5)>, K::template Tile<R(6)>,
                                      K::template Tile<R(7)>, K::template Tile<R(8)>};
  constexpr int64_t kStretch = 16;
  for (int64_t js = j0; js < j1; js += kStretch) {
    const int64_t je = std::min(j1, js + kStretch);
    for (int64_t r = 0; r < m; r += kMaxTileRows) {
      const TileFn tile = tiles[std::min<int64_t>(kMaxTileRows, m - r)];
      for (int64_t j = js; j < je; ++j) tile(w + j * row_bytes, x + r * nb, nb, y + r * ldy + j, ldy);
    }
  }
}

}  // namespace

const KQuantKernels& KQUANT_KERNELS_FN() {
  static const KQuantKernels k{KQUANT_KERNELS_NAME, Gemm<Q4K, GQ4K>, Gemm<Q5K, GQ5K>, Gemm<Q6K, GQ6K>, Gemm<Q3K, GLow<true>>, Gemm<Q2K, GLow<false>>, Gemm<IQ4NL>, Gemm<IQ4XS>};
  return k;
}

}  // namespace accel::cpu
