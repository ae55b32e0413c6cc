// Attention for a block of up to 8 query rows of one head, register-tiled for AVX-512.
// The row-at-a-time kernel (rowwise_impl.h) re-reads and re-writes its score row once per four
// K^T rows; here 8 rows share each K^T and V load, and scores and the weighted sum of V stay in
// registers across the head dimension and the keys, as in a GEMM micro-kernel. That is what
// makes attention cheap next to the projections at encoder lengths (128-1500 tokens).
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "backends/cpu/kernels.h"
#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/vec_math_avx512.h"

namespace accel::cpu {

namespace {

constexpr int kRows = kAttentionBlockRows;

// scores[i][j] = scale * q_i . k_j for j in [lo, hi), 48 keys (three zmm) per step.
void Scores(const float* qs, const float* kt, int64_t kv_len, int64_t head_dim, int64_t lo, int64_t hi,
            float* scores) {
  for (int64_t j = lo; j < hi; j += 48) {
    __mmask16 m[3];
    for (int v = 0; v < 3; ++v) m[v] = avx512::MaskFor(hi - j - 16 * v);
    __m512 acc[kRows][3];
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t d = 0; d < head_dim; ++d) {
      const float* krow = kt + d * kv_len + j;
      __m512 k[3];
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) k[v] = _mm512_maskz_loadu_ps(m[v], krow + 16 * v);
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) {
        const __m512 q = _mm512_set1_ps(qs[d * kRows + i]);
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) acc[i][v] = _mm512_fmadd_ps(q, k[v], acc[i][v]);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) _mm512_mask_storeu_ps(scores + i * kv_len + j + 16 * v, m[v], acc[i][v]);
  }
}

// Keys of [j, j + 16) that row may attend: inside [begin, end) and not padding.
inline __mmask16 VisibleKeys(int64_t j, int64_t begin, int64_t end, const uint8_t* allowed) {
  __mmask16 m = avx512::MaskFor(end - j);
  if (j < begin) m &= static_cast<__mmask16>(~avx512::MaskFor(begin - j));
  if (allowed) {
    const __m128i a = _mm_maskz_loadu_epi8(m, allowed + j);
    m &= _mm_test_epi8_mask(a, a);
  }
  return m;
}

// Softmax of one score row over [lo, hi), masked keys weighing 0, normalised in place.
// Returns false when no key is visible (the caller applies HF's degenerate rule).
bool SoftmaxVisible(float* s, int64_t lo, int64_t hi, int64_t begin, int64_t end, const uint8_t* allowed) {
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 mx = neg_inf;
  bool any = false;
  for (int64_t j = lo; j < hi; j += 16) {
    const __mmask16 m = VisibleKeys(j, begin, end, allowed);
    any |= m != 0;
    mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
  }
  if (!any) return false;
  const __m512 row_max = _mm512_set1_ps(avx512::HorizontalMax(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = lo; j < hi; j += 16) {
    const __mmask16 m = VisibleKeys(j, begin, end, allowed);
    const __m512 p = _mm512_maskz_mov_ps(m, avx512::Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), row_max)));
    sum = _mm512_add_ps(sum, p);
    _mm512_mask_storeu_ps(s + j, avx512::MaskFor(hi - j), p);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / avx512::HorizontalSum(sum));
  for (int64_t j = lo; j < hi; j += 16) {
    const __mmask16 m = avx512::MaskFor(hi - j);
    _mm512_mask_storeu_ps(s + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
  }
  return true;
}

// out_i = sum_j p[i][j] v_j, 32 output columns (two zmm) per sweep over the keys.
void WeightedValues(const float* probs, int64_t kv_len, const float* v, int64_t kv_stride, int64_t head_dim,
                    int64_t lo, int64_t hi, int rows, float* out, int64_t out_stride) {
  for (int64_t x = 0; x < head_dim; x += 32) {
    const __mmask16 m0 = avx512::MaskFor(head_dim - x), m1 = avx512::MaskFor(head_dim - x - 16);
    __m512 acc[kRows][2];
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t j = lo; j < hi; ++j) {
      const float* vr = v + j * kv_stride + x;
      const __m512 v0 = _mm512_maskz_loadu_ps(m0, vr), v1 = _mm512_maskz_loadu_ps(m1, vr + 16);
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) {
        const __m512 p = _mm512_set1_ps(probs[i * kv_len + j]);
        acc[i][0] = _mm512_fmadd_ps(p, v0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(p, v1, acc[i][1]);
      }
    }
    // Unrolled with constant indices so the accumulators stay in registers.
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      if (i >= rows) break;
      _mm512_mask_storeu_ps(out + i * out_stride + x, m0, acc[i][0]);
      _mm512_mask_storeu_ps(out + i * out_stride + x + 16, m1, acc[i][1]);
    }
  }
}

}  // namespace

uint32_t AttendBlockAvx512(const AttentionBlock& blk, float* workspace) {
  const int64_t d = blk.head_dim, n = blk.kv_len;
  int64_t lo = n, hi = 0;
  for (int i = 0; i < blk.rows; ++i) {
    lo = std::min(lo, blk.key_begin[i]);
    hi = std::max(hi, blk.key_end[i]);
  }
  const uint32_t all_rows = (1u << blk.rows) - 1;
  if (lo >= hi) return all_rows;
  // Scaled Q as [d][8]: the broadcasts of one step are adjacent. Missing rows are zero.
  float* qs = workspace;
  float* probs = workspace + d * kRows;
  for (int64_t x = 0; x < d; ++x)
    for (int i = 0; i < kRows; ++i) qs[x * kRows + i] = i < blk.rows ? blk.q[i * blk.q_stride + x] * blk.scale : 0.0f;
  Scores(qs, blk.kt, n, d, lo, hi, probs);
  uint32_t blind = 0;
  for (int i = 0; i < kRows; ++i) {
    float* row = probs + i * n;
    if (i >= blk.rows || !SoftmaxVisible(row, lo, hi, blk.key_begin[i], blk.key_end[i], blk.allowed)) {
      std::fill(row + lo, row + hi, 0.0f);
      if (i < blk.rows) blind |= 1u << i;
    }
  }
  WeightedValues(probs, n, blk.v, blk.kv_stride, d, lo, hi, blk.rows, blk.out, blk.out_stride);
  return blind;
}

}  // namespace accel::cpu
