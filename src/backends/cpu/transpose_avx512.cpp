// [rows, cols] -> [cols, rows] in 16 x 16 tiles held in registers: 16 row loads, a shuffle
// network of 64 instructions, 16 column stores, instead of 256 scalar moves with strided stores.
// Edge tiles use masked loads and stores.
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/kernels.h"
#include "backends/cpu/mask_avx512.h"

namespace accel::cpu {

namespace {

// Transposes the n_rows x n_cols (<= 16 each) tile at x (row stride ldx) to y (row stride ldy).
inline void Tile16(const float* x, int64_t ldx, int64_t n_rows, int64_t n_cols, float* y, int64_t ldy) {
  const __mmask16 load_mask = avx512::MaskFor(n_cols), store_mask = avx512::MaskFor(n_rows);
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = i < n_rows ? _mm512_maskz_loadu_ps(load_mask, x + i * ldx) : _mm512_setzero_ps();
  // Pairs of rows interleaved within each 128-bit lane: (a0 b0 a1 b1), (a2 b2 a3 b3).
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // Quads of rows: u[4q + m] holds, in lane L, column 4L + m of rows 4q .. 4q + 3.
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
    r[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // Output row 4L + m gathers lane L of r[m], r[4 + m], r[8 + m], r[12 + m].
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    const __m512 lo01 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x44), hi01 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x44);
    const __m512 lo23 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xEE), hi23 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xEE);
    const __m512 out[4] = {_mm512_shuffle_f32x4(lo01, hi01, 0x88), _mm512_shuffle_f32x4(lo01, hi01, 0xDD),
                           _mm512_shuffle_f32x4(lo23, hi23, 0x88), _mm512_shuffle_f32x4(lo23, hi23, 0xDD)};
#pragma GCC unroll 4
    for (int lane = 0; lane < 4; ++lane) {
      const int col = 4 * lane + m;
      if (col < n_cols) _mm512_mask_storeu_ps(y + col * ldy, store_mask, out[lane]);
    }
  }
}

}  // namespace

void TransposeRowsAvx512(const float* x, int64_t rows, int64_t cols, int64_t r0, int64_t r1, float* y) {
  for (int64_t i = r0; i < r1; i += 16) {
    const int64_t n_rows = std::min<int64_t>(16, r1 - i);
    for (int64_t j = 0; j < cols; j += 16) Tile16(x + i * cols + j, cols, n_rows, std::min<int64_t>(16, cols - j), y + j * rows + i, rows);
  }
}

}  // namespace accel::cpu
