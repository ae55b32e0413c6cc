// AVX-512 CachedAttention (cached_attention.h): per query row, one pass over the group's keys
// scoring every query head of the group, a vectorised softmax per head, then one pass over the
// values accumulating up to 4 heads x 64 dims in registers. Same masking rules as the portable
// kernel: causal, sliding window, padding mask, ALiBi; a row with no visible key is zero.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cached_attention.h"
#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/vec_math_avx512.h"

namespace accel::cpu {

namespace {

constexpr int kPrefetchRows = 8;
constexpr int kMaxHeadVectors = 16;  // head_dim <= 256 (the value pass keeps 4 heads x 64 dims)

// out_h = sum_j p[h][j] v_j for GN heads, 64 dims (4 vectors, masked past head_dim) at a time.
template <int GN>
void AccumulateValues(const float* const* probs, const float* vb, int64_t row_stride, int64_t begin, int64_t end,
                      int nv, const float* inv_sum, float* const* outs) {
  for (int c0 = 0; c0 < nv; c0 += 4) {
    __mmask16 m[4];
    for (int c = 0; c < 4; ++c) m[c] = c0 + c < nv ? 0xffff : 0;
    __m512 acc[GN][4];
    for (int g = 0; g < GN; ++g)
      for (int c = 0; c < 4; ++c) acc[g][c] = _mm512_setzero_ps();
    for (int64_t j = begin; j < end; ++j) {
      const float* v = vb + j * row_stride + 16 * c0;
      for (int c = 0; c < 4 && c0 + c < nv; ++c) {
        _mm_prefetch(reinterpret_cast<const char*>(v + kPrefetchRows * row_stride + 16 * c), _MM_HINT_T0);
      }
      __m512 vv[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) vv[c] = _mm512_maskz_loadu_ps(m[c], v + 16 * c);
#pragma GCC unroll 4
      for (int g = 0; g < GN; ++g) {
        const __m512 pj = _mm512_set1_ps(probs[g][j]);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[g][c] = _mm512_fmadd_ps(pj, vv[c], acc[g][c]);
      }
    }
    for (int g = 0; g < GN; ++g) {
      const __m512 inv = _mm512_set1_ps(inv_sum[g]);
      for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(outs[g] + 16 * (c0 + c), m[c], _mm512_mul_ps(acc[g][c], inv));
    }
  }
}

// scores[g][j] for keys [begin, end): NV > 0 keeps the key row in registers (NV known at
// compile time, so the loads stay loads); NV = 0 handles any head_dim / 16, re-reading the row
// from L1 for each head.
template <int NV>
void ScoreKeys(const CachedAttentionRaw& a, const AttentionParams& p, const float* q0, const float* kb,
               const float* key_pos, const uint8_t* allowed, int64_t begin, int64_t end, int64_t group, int64_t kh,
               float* scores) {
  const int d = p.head_dim, nv = NV > 0 ? NV : d / 16;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t j = begin; j < end; ++j) {
    if (allowed && !allowed[j]) {
      for (int64_t g = 0; g < group; ++g) scores[g * a.kv_len + j] = neg_inf;
      continue;
    }
    const float* k = kb + j * a.kv_row_stride;
    // Rows are kv_row_stride apart (all KV heads interleaved): a stride the prefetchers pick
    // up late, so ask for the row kPrefetchRows ahead.
    for (int c = 0; c < nv; ++c) _mm_prefetch(reinterpret_cast<const char*>(k + kPrefetchRows * a.kv_row_stride + 16 * c), _MM_HINT_T0);
    __m512 kv[NV > 0 ? NV : 1];
    if constexpr (NV > 0) {
#pragma GCC unroll 8
      for (int c = 0; c < NV; ++c) kv[c] = _mm512_loadu_ps(k + 16 * c);
    }
    for (int64_t g = 0; g < group; ++g) {
      const float* q = q0 + g * d;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
      if constexpr (NV > 0) {
#pragma GCC unroll 8
        for (int c = 0; c < NV; c += 2) {
          acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * c), kv[c], acc0);
          if (c + 1 < NV) acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * (c + 1)), kv[c + 1], acc1);
        }
      } else {
        for (int c = 0; c < nv; ++c) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * c), _mm512_loadu_ps(k + 16 * c), acc0);
      }
      float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) * p.scale;
      if (key_pos) s += a.alibi_slopes[kh * group + g] * key_pos[j];
      scores[g * a.kv_len + j] = s;
    }
  }
}

}  // namespace

void CachedAttentionAvx512(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0,
                           int64_t i1, float* out) {
  const int d = p.head_dim;
  if (d % 16 != 0 || d / 16 > kMaxHeadVectors) return CachedAttentionGeneric(a, p, b, kh, i0, i1, out);
  const int nv = d / 16;
  const int64_t group = p.num_heads / p.num_kv_heads, width = static_cast<int64_t>(p.num_heads) * d;
  const float* kb = a.k + b * a.kv_batch_stride + kh * d;
  const float* vb = a.v + b * a.kv_batch_stride + kh * d;
  const uint8_t* allowed = a.allowed ? a.allowed + b * a.mask_stride : nullptr;
  const float* key_pos = a.key_positions ? a.key_positions + b * a.mask_stride : nullptr;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  thread_local std::vector<float> scores;  // [group][kv_len], then exp'd in place
  scores.resize(static_cast<size_t>(group * a.kv_len));
  thread_local std::vector<float> inv_sum;
  inv_sum.resize(static_cast<size_t>(group));
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t pos = p.query_offset + i;
    const int64_t end = p.causal ? std::min<int64_t>(a.kv_len, pos + 1) : a.kv_len;
    const int64_t begin = std::min(end, p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : int64_t{0});
    const float* q0 = a.q + (b * a.q_len + i) * a.q_stride + kh * group * d;
    float* o0 = out + (b * a.q_len + i) * width + kh * group * d;
    // Scores: each key row is loaded once and dotted with every head of the group.
    switch (nv) {
      case 4: ScoreKeys<4>(a, p, q0, kb, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      case 8: ScoreKeys<8>(a, p, q0, kb, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      case 2: ScoreKeys<2>(a, p, q0, kb, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      default: ScoreKeys<0>(a, p, q0, kb, key_pos, allowed, begin, end, group, kh, scores.data()); break;
    }
    // Softmax per head over [begin, end): masked keys weigh exactly 0.
    bool any = false;
    for (int64_t g = 0; g < group; ++g) {
      float* s = scores.data() + g * a.kv_len;
      __m512 mx = _mm512_set1_ps(neg_inf);
      for (int64_t j = begin; j < end; j += 16) {
        mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(neg_inf), avx512::MaskFor(end - j), s + j));
      }
      const float m = _mm512_reduce_max_ps(mx);
      if (m == neg_inf) {  // no visible key
        inv_sum[g] = 0.0f;
        continue;
      }
      any = true;
      __m512 sum = _mm512_setzero_ps();
      const __m512 mv = _mm512_set1_ps(m);
      for (int64_t j = begin; j < end; j += 16) {
        const __mmask16 lanes = avx512::MaskFor(end - j);
        const __m512 x = _mm512_maskz_loadu_ps(lanes, s + j);
        const __mmask16 live = _mm512_mask_cmp_ps_mask(lanes, x, _mm512_set1_ps(neg_inf), _CMP_NEQ_OQ);
        const __m512 e = _mm512_maskz_mov_ps(live, avx512::Exp(_mm512_sub_ps(x, mv)));
        _mm512_mask_storeu_ps(s + j, lanes, e);
        sum = _mm512_add_ps(sum, e);
      }
      inv_sum[g] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    if (!any) {
      std::fill(o0, o0 + group * d, 0.0f);
      continue;
    }
    for (int64_t g0 = 0; g0 < group; g0 += 4) {
      const int gn = static_cast<int>(std::min<int64_t>(4, group - g0));
      const float* probs[4];
      float* outs[4];
      for (int g = 0; g < gn; ++g) probs[g] = scores.data() + (g0 + g) * a.kv_len, outs[g] = o0 + (g0 + g) * d;
      switch (gn) {
        case 1: AccumulateValues<1>(probs, vb, a.kv_row_stride, begin, end, nv, inv_sum.data() + g0, outs); break;
        case 2: AccumulateValues<2>(probs, vb, a.kv_row_stride, begin, end, nv, inv_sum.data() + g0, outs); break;
        case 3: AccumulateValues<3>(probs, vb, a.kv_row_stride, begin, end, nv, inv_sum.data() + g0, outs); break;
        default: AccumulateValues<4>(probs, vb, a.kv_row_stride, begin, end, nv, inv_sum.data() + g0, outs); break;
      }
    }
  }
}

}  // namespace accel::cpu
