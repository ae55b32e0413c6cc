// Attention for AVX-512: a tile of up to kRows query rows at a time, so every key and value
// loaded serves all of them. Scores are a small GEMM (tile of Q x panels of K^T, 4 vectors of
// keys per step), the softmax is vectorised with the polynomial exp, and P x V is a second small
// GEMM (4 vectors of the head dimension per step). The row-at-a-time kernel read each key and
// value once per query row and was bound by cache bandwidth on long sequences (Whisper's 1500
// frames).
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/vec_math_avx512.h"

namespace accel::cpu {
namespace {

constexpr int kRows = 6;  // 6 rows x 4 vectors = 24 accumulators, leaving registers for loads

using avx512::MaskFor;

// s[r * ld + j] = q_r . K[:, j] for j in [j0, j0 + 16 * NV) (the last vector up to `last`
// lanes); q rows are pre-scaled and d long, kt rows kv_len apart.
template <int R, int NV>
void ScorePanel(const float* q, int64_t d, const float* kt, int64_t kv_len, int64_t j0, __mmask16 last, float* s, int64_t ld) {
  __m512 acc[R][NV];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_setzero_ps();
  const float* col = kt + j0;
  for (int64_t x = 0; x < d; ++x, col += kv_len) {
    __m512 k[NV];
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) k[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? last : static_cast<__mmask16>(0xFFFF), col + 16 * c);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 qr = _mm512_set1_ps(q[r * d + x]);
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(qr, k[c], acc[r][c]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c)
      _mm512_mask_storeu_ps(s + r * ld + j0 + 16 * c, c == NV - 1 ? last : static_cast<__mmask16>(0xFFFF), acc[r][c]);
}

// out_r[0, 16 * NV) (last vector `last` lanes) = inv[r] * sum_j p[r * ld + j] v_j over j in
// [lo, hi); v rows are d apart.
template <int R, int NV>
void ValuePanel(const float* p, int64_t ld, const float* v, int64_t d, int64_t lo, int64_t hi, __mmask16 last,
                const float* inv, float* const* out) {
  __m512 acc[R][NV];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_setzero_ps();
  const float* row = v + lo * d;
  for (int64_t j = lo; j < hi; ++j, row += d) {
    __m512 vv[NV];
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) vv[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? last : static_cast<__mmask16>(0xFFFF), row + 16 * c);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 pr = _mm512_set1_ps(p[r * ld + j]);
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(pr, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c)
      _mm512_mask_storeu_ps(out[r] + 16 * c, c == NV - 1 ? last : static_cast<__mmask16>(0xFFFF),
                            _mm512_mul_ps(acc[r][c], _mm512_set1_ps(inv[r])));
}

using ScoreFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, __mmask16, float*, int64_t);
using ValueFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, __mmask16, const float*, float* const*);

// Tables indexed [rows - 1][vectors - 1].
template <int R>
constexpr std::array<ScoreFn, 4> ScoreRow() {
  return {ScorePanel<R, 1>, ScorePanel<R, 2>, ScorePanel<R, 3>, ScorePanel<R, 4>};
}
template <int R>
constexpr std::array<ValueFn, 4> ValueRow() {
  return {ValuePanel<R, 1>, ValuePanel<R, 2>, ValuePanel<R, 3>, ValuePanel<R, 4>};
}
constexpr std::array<std::array<ScoreFn, 4>, kRows> kScore = {ScoreRow<1>(), ScoreRow<2>(), ScoreRow<3>(),
                                                               ScoreRow<4>(), ScoreRow<5>(), ScoreRow<6>()};
constexpr std::array<std::array<ValueFn, 4>, kRows> kValue = {ValueRow<1>(), ValueRow<2>(), ValueRow<3>(),
                                                               ValueRow<4>(), ValueRow<5>(), ValueRow<6>()};

// Turns scores s[lo, hi) into unnormalised probabilities over the row's visible keys
// [begin, end) (and `allowed`), zero elsewhere; returns their sum, or 0 when no key is visible.
float SoftmaxNumerators(float* s, int64_t lo, int64_t hi, int64_t begin, int64_t end, const uint8_t* allowed) {
  auto visible = [&](int64_t j) {
    __mmask16 m = MaskFor(end - j);
    if (allowed) m &= _mm_test_epi8_mask(_mm_maskz_loadu_epi8(m, allowed + j), _mm_set1_epi8(-1));
    return m;
  };
  __m512 mx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  bool any = false;
  for (int64_t j = begin; j < end; j += 16) {
    const __mmask16 m = visible(j);
    any |= m != 0;
    mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
  }
  std::fill(s + lo, s + begin, 0.0f);
  std::fill(s + std::max(begin, end), s + hi, 0.0f);
  if (!any) {
    std::fill(s + begin, s + end, 0.0f);
    return 0.0f;
  }
  const __m512 m0 = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = begin; j < end; j += 16) {
    const __mmask16 m = visible(j);
    const __m512 e = _mm512_maskz_mov_ps(m, avx512::Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), m0)));
    sum = _mm512_add_ps(sum, e);
    _mm512_mask_storeu_ps(s + j, MaskFor(end - j), e);
  }
  return _mm512_reduce_add_ps(sum);
}

}  // namespace

void AttentionTaskAvx512(const AttentionTaskArgs& t, int64_t b, int64_t h, int64_t q0, int64_t q1) {
  const AttentionParams& p = *t.params;
  const int64_t d = p.head_dim, kv_len = t.kv_len;
  const int64_t head = (b * p.num_kv_heads + h / (p.num_heads / p.num_kv_heads)) * kv_len * d;
  const float *kt = t.kv.kt + head, *v = t.kv.v + head;
  const uint8_t* allowed = t.allowed ? t.allowed + b * kv_len : nullptr;
  thread_local std::vector<float> scores, q_scaled;
  scores.resize(static_cast<size_t>(kRows * kv_len));
  q_scaled.resize(static_cast<size_t>(kRows * d));
  for (int64_t i0 = q0; i0 < q1; i0 += kRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kRows, q1 - i0));
    int64_t begin[kRows], end[kRows], lo = kv_len, hi = 0;
    float* out[kRows];
    for (int r = 0; r < rows; ++r) {
      const int64_t i = i0 + r, pos = p.query_offset + i;
      end[r] = p.causal ? std::min<int64_t>(kv_len, pos + 1) : kv_len;
      begin[r] = std::min(end[r], p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : int64_t{0});
      lo = std::min(lo, begin[r]);
      hi = std::max(hi, end[r]);
      const float* q = t.q + (b * t.q_len + i) * t.q_stride + h * d;
      for (int64_t x = 0; x < d; ++x) q_scaled[r * d + x] = q[x] * p.scale;
      out[r] = t.out + (b * t.q_len + i) * (p.num_heads * d) + h * d;
    }
    lo = std::min(lo, hi);
    // Scores over the union of the rows' key ranges, 64 keys per panel.
    for (int64_t j = lo; j < hi; j += 64) {
      const int64_t n = std::min<int64_t>(64, hi - j);
      const int nv = static_cast<int>((n + 15) / 16);
      kScore[rows - 1][nv - 1](q_scaled.data(), d, kt, kv_len, j, MaskFor(n - 16 * (nv - 1)), scores.data(), kv_len);
    }
    float inv[kRows];
    bool none_visible[kRows];
    for (int r = 0; r < rows; ++r) {
      if (t.score_bias) {  // T5's relative-position bias, added to the scaled scores before masking
        const float* bias = t.score_bias + (h * t.q_len + i0 + r) * kv_len;
        float* s = scores.data() + r * kv_len;
#pragma omp simd
        for (int64_t j = begin[r]; j < end[r]; ++j) s[j] += bias[j];
      }
      const float sum = SoftmaxNumerators(scores.data() + r * kv_len, lo, hi, begin[r], end[r], allowed);
      none_visible[r] = sum == 0.0f;
      inv[r] = none_visible[r] ? 0.0f : 1.0f / sum;
    }
    for (int64_t c = 0; c < d; c += 64) {
      const int64_t n = std::min<int64_t>(64, d - c);
      const int nv = static_cast<int>((n + 15) / 16);
      float* out_c[kRows];
      for (int r = 0; r < rows; ++r) out_c[r] = out[r] + c;
      kValue[rows - 1][nv - 1](scores.data(), kv_len, v + c, d, lo, hi, MaskFor(n - 16 * (nv - 1)), inv, out_c);
    }
    // Every key masked: HF's additive-mask softmax degenerates to a uniform average of all values.
    for (int r = 0; r < rows; ++r) {
      if (!none_visible[r]) continue;
      std::fill(out[r], out[r] + d, 0.0f);
      for (int64_t j = 0; j < kv_len; ++j)
        for (int64_t x = 0; x < d; ++x) out[r][x] += v[j * d + x];
      for (int64_t x = 0; x < d; ++x) out[r][x] /= static_cast<float>(kv_len);
    }
  }
}

}  // namespace accel::cpu
