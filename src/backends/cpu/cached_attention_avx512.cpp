// AVX-512 CachedAttention (cached_attention.h): per query row, one pass over the group's keys
// scoring every query head of the group, a vectorised softmax per head, then one pass over the
// values accumulating up to 4 heads x 64 dims in registers. Same masking rules as the portable
// kernel: causal, sliding window, padding mask, ALiBi; a row with no visible key is zero.
// A q8_0 / q4_0 cache is dequantized 16 values at a time straight into the registers the f32
// kernel would load (one scale broadcast per 32 values).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cached_attention.h"
#include "backends/cpu/mask_avx512.h"
#include "backends/cpu/vec_math_avx512.h"
#include "formats/quant.h"

namespace accel::cpu {

namespace {

constexpr int kPrefetchRows = 8;
constexpr int kMaxHeadVectors = 16;  // head_dim <= 256 (the value pass keeps 4 heads x 64 dims)

// 16 values (vector c of the row) of one head's quantized blocks: q8_0 holds them as int8 at
// half c % 2 of block c / 2; q4_0 as the low (c even) or high (c odd) nibbles of its 16 bytes.
template <DType T>
inline __m512 LoadQuant(const uint8_t* row, int c) {
  if constexpr (T == DType::kQ8_0) {
    const auto* blk = reinterpret_cast<const quant::BlockQ8_0*>(row) + c / 2;
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->qs + 16 * (c & 1)));
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(blk->d)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
  } else {
    const auto* blk = reinterpret_cast<const quant::BlockQ4_0*>(row) + c / 2;
    const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->qs)));
    const __m512i nib = (c & 1) ? _mm512_srli_epi32(bytes, 4) : _mm512_and_si512(bytes, _mm512_set1_epi32(0x0F));
    const __m512 x = _mm512_cvtepi32_ps(_mm512_sub_epi32(nib, _mm512_set1_epi32(8)));
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(blk->d)), x);
  }
}

// Where one KV head's rows are: f32 rows `stride` floats apart, or quantized rows `stride`
// bytes apart (T the block format).
template <DType T>
struct HeadRows {
  const void* base;
  int64_t stride;
  const float* f32(int64_t j) const { return static_cast<const float*>(base) + j * stride; }
  const uint8_t* bytes(int64_t j) const { return static_cast<const uint8_t*>(base) + j * stride; }
  const char* prefetch_at(int64_t j) const {
    return T == DType::kF32 ? reinterpret_cast<const char*>(f32(j)) : reinterpret_cast<const char*>(bytes(j));
  }
  static constexpr int64_t kBytesPerVector = T == DType::kF32 ? 64 : T == DType::kQ8_0 ? 17 : 9;
};

// Vector c of row j (c < nv).
template <DType T>
inline __m512 LoadRowVector(const HeadRows<T>& r, int64_t j, int c) {
  if constexpr (T == DType::kF32) {
    return _mm512_loadu_ps(r.f32(j) + 16 * c);
  } else {
    return LoadQuant<T>(r.bytes(j), c);
  }
}

// Prefetches the row kPrefetchRows ahead of j: rows are kv_row_stride apart (all KV heads
// interleaved), a stride the prefetchers pick up late.
template <DType T>
inline void PrefetchAhead(const HeadRows<T>& r, int64_t j, int nv) {
  const char* p = r.prefetch_at(j + kPrefetchRows);
  const int64_t bytes = HeadRows<T>::kBytesPerVector * nv;
  for (int64_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

// out_h = sum_j p[h][j] v_j for GN heads, 64 dims (4 vectors, masked past head_dim) at a time.
template <int GN, DType T>
void AccumulateValues(const float* const* probs, const HeadRows<T>& vr, int64_t begin, int64_t end, int nv,
                      const float* inv_sum, float* const* outs) {
  for (int c0 = 0; c0 < nv; c0 += 4) {
    __mmask16 m[4];
    for (int c = 0; c < 4; ++c) m[c] = c0 + c < nv ? 0xffff : 0;
    __m512 acc[GN][4];
    for (int g = 0; g < GN; ++g)
      for (int c = 0; c < 4; ++c) acc[g][c] = _mm512_setzero_ps();
    for (int64_t j = begin; j < end; ++j) {
      __m512 vv[4];
      if constexpr (T == DType::kF32) {
        const float* v = vr.f32(j) + 16 * c0;
        for (int c = 0; c < 4 && c0 + c < nv; ++c) {
          _mm_prefetch(reinterpret_cast<const char*>(v + kPrefetchRows * vr.stride + 16 * c), _MM_HINT_T0);
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) vv[c] = _mm512_maskz_loadu_ps(m[c], v + 16 * c);
      } else {
        if (c0 == 0) PrefetchAhead(vr, j, nv);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) vv[c] = c0 + c < nv ? LoadQuant<T>(vr.bytes(j), c0 + c) : _mm512_setzero_ps();
      }
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
// from L1 for each head (a quantized row is dequantized into a buffer first).
template <int NV, DType T>
void ScoreKeys(const CachedAttentionRaw& a, const AttentionParams& p, const float* q0, const HeadRows<T>& kr,
               const float* key_pos, const uint8_t* allowed, int64_t begin, int64_t end, int64_t group, int64_t kh,
               float* scores) {
  const int d = p.head_dim, nv = NV > 0 ? NV : d / 16;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  [[maybe_unused]] alignas(64) float row[T == DType::kF32 ? 1 : kMaxHeadVectors * 16];
  for (int64_t j = begin; j < end; ++j) {
    if (allowed && !allowed[j]) {
      for (int64_t g = 0; g < group; ++g) scores[g * a.kv_len + j] = neg_inf;
      continue;
    }
    PrefetchAhead(kr, j, nv);
    const float* k = nullptr;
    if constexpr (T == DType::kF32) k = kr.f32(j);
    __m512 kv[NV > 0 ? NV : 1];
    if constexpr (NV > 0) {
#pragma GCC unroll 8
      for (int c = 0; c < NV; ++c) kv[c] = LoadRowVector(kr, j, c);
    } else if constexpr (T != DType::kF32) {
      for (int c = 0; c < nv; ++c) _mm512_store_ps(row + 16 * c, LoadQuant<T>(kr.bytes(j), c));
      k = row;
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

template <DType T>
void Attend(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0, int64_t i1,
            float* out) {
  const int d = p.head_dim;
  const int nv = d / 16;
  const int64_t group = p.num_heads / p.num_kv_heads, width = static_cast<int64_t>(p.num_heads) * d;
  HeadRows<T> kr, vr;
  if constexpr (T == DType::kF32) {
    kr = {a.k + b * a.kv_batch_stride + kh * d, a.kv_row_stride};
    vr = {a.v + b * a.kv_batch_stride + kh * d, a.kv_row_stride};
  } else {
    const int64_t head_bytes = HeadRows<T>::kBytesPerVector * nv;  // (d / 32) blocks
    kr = {a.kq + b * a.kv_batch_bytes + kh * head_bytes, a.kv_row_bytes};
    vr = {a.vq + b * a.kv_batch_bytes + kh * head_bytes, a.kv_row_bytes};
  }
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
      case 4: ScoreKeys<4, T>(a, p, q0, kr, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      case 8: ScoreKeys<8, T>(a, p, q0, kr, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      case 2: ScoreKeys<2, T>(a, p, q0, kr, key_pos, allowed, begin, end, group, kh, scores.data()); break;
      default: ScoreKeys<0, T>(a, p, q0, kr, key_pos, allowed, begin, end, group, kh, scores.data()); break;
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
        case 1: AccumulateValues<1, T>(probs, vr, begin, end, nv, inv_sum.data() + g0, outs); break;
        case 2: AccumulateValues<2, T>(probs, vr, begin, end, nv, inv_sum.data() + g0, outs); break;
        case 3: AccumulateValues<3, T>(probs, vr, begin, end, nv, inv_sum.data() + g0, outs); break;
        default: AccumulateValues<4, T>(probs, vr, begin, end, nv, inv_sum.data() + g0, outs); break;
      }
    }
  }
}

}  // namespace

void CachedAttentionAvx512(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0,
                           int64_t i1, float* out) {
  const int d = p.head_dim;
  const bool quantized = a.kv_dtype != DType::kF32;
  if (d % (quantized ? 32 : 16) != 0 || d / 16 > kMaxHeadVectors) return CachedAttentionGeneric(a, p, b, kh, i0, i1, out);
  switch (a.kv_dtype) {
    case DType::kQ8_0: return Attend<DType::kQ8_0>(a, p, b, kh, i0, i1, out);
    case DType::kQ4_0: return Attend<DType::kQ4_0>(a, p, b, kh, i0, i1, out);
    default: return Attend<DType::kF32>(a, p, b, kh, i0, i1, out);
  }
}

}  // namespace accel::cpu
