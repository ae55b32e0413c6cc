// The portable CachedAttention kernel (cached_attention.h), one query row of one head at a
// time; also the reference the AVX-512 kernel is tested against.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/cached_attention.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "formats/quant.h"

namespace accel::cpu {

namespace {

float DotF32(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// q . k for one quantized key row of n values (blocks of 32), dequantizing block by block.
float DotQ8(const float* q, const uint8_t* row, int64_t n) {
  const auto* blocks = reinterpret_cast<const quant::BlockQ8_0*>(row);
  float acc = 0.0f;
  for (int64_t k = 0; k < n / quant::kBlock; ++k, q += quant::kBlock) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < quant::kBlock; ++i) s += q[i] * static_cast<float>(blocks[k].qs[i]);
    acc += F16ToF32(blocks[k].d) * s;
  }
  return acc;
}

float DotQ4(const float* q, const uint8_t* row, int64_t n) {
  const auto* blocks = reinterpret_cast<const quant::BlockQ4_0*>(row);
  constexpr int kHalf = quant::kBlock / 2;
  float acc = 0.0f;
  for (int64_t k = 0; k < n / quant::kBlock; ++k, q += quant::kBlock) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < kHalf; ++j) {
      s += q[j] * static_cast<float>((blocks[k].qs[j] & 0x0F) - 8) + q[j + kHalf] * static_cast<float>((blocks[k].qs[j] >> 4) - 8);
    }
    acc += F16ToF32(blocks[k].d) * s;
  }
  return acc;
}

// o += w * v for one quantized value row of n values.
void AxpyQ8(float w, const uint8_t* row, int64_t n, float* o) {
  const auto* blocks = reinterpret_cast<const quant::BlockQ8_0*>(row);
  for (int64_t k = 0; k < n / quant::kBlock; ++k, o += quant::kBlock) {
    const float wd = w * F16ToF32(blocks[k].d);
#pragma omp simd
    for (int i = 0; i < quant::kBlock; ++i) o[i] += wd * static_cast<float>(blocks[k].qs[i]);
  }
}

void AxpyQ4(float w, const uint8_t* row, int64_t n, float* o) {
  const auto* blocks = reinterpret_cast<const quant::BlockQ4_0*>(row);
  constexpr int kHalf = quant::kBlock / 2;
  for (int64_t k = 0; k < n / quant::kBlock; ++k, o += quant::kBlock) {
    const float wd = w * F16ToF32(blocks[k].d);
#pragma omp simd
    for (int j = 0; j < kHalf; ++j) {
      o[j] += wd * static_cast<float>((blocks[k].qs[j] & 0x0F) - 8);
      o[j + kHalf] += wd * static_cast<float>((blocks[k].qs[j] >> 4) - 8);
    }
  }
}

// One query row of one head against the visible keys of the cache.
void AttendCachedRow(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t h, int64_t i,
                     std::vector<float>& scores) {
  const int64_t d = p.head_dim;
  const int64_t kh = h / (p.num_heads / p.num_kv_heads);
  const int64_t pos = p.query_offset + i;
  const int64_t key_end = p.causal ? std::min<int64_t>(a.kv_len, pos + 1) : a.kv_len;
  const int64_t key_begin = p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : 0;
  const float* q = a.q + (b * a.q_len + i) * a.q_stride + h * d;
  // A quantized cache: this head's blocks in row j at kqb / vqb + j * kv_row_bytes.
  const bool q8 = a.kv_dtype == DType::kQ8_0, quantized = a.kv_dtype != DType::kF32;
  const float* kb = quantized ? nullptr : a.k + b * a.kv_batch_stride + kh * d;
  const float* vb = quantized ? nullptr : a.v + b * a.kv_batch_stride + kh * d;
  const int64_t head_bytes = quantized ? static_cast<int64_t>(*BytesFor(a.kv_dtype, static_cast<size_t>(d))) : 0;
  const uint8_t* kqb = quantized ? a.kq + b * a.kv_batch_bytes + kh * head_bytes : nullptr;
  const uint8_t* vqb = quantized ? a.vq + b * a.kv_batch_bytes + kh * head_bytes : nullptr;
  const uint8_t* allowed = a.allowed ? a.allowed + b * a.mask_stride : nullptr;
  const float* key_pos = a.key_positions ? a.key_positions + b * a.mask_stride : nullptr;
  const float slope = a.alibi_slopes ? a.alibi_slopes[h] : 0.0f;
  float mx = -std::numeric_limits<float>::infinity();
  int64_t visible = 0;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) continue;
    const float dot = !quantized ? DotF32(q, kb + j * a.kv_row_stride, d)
                      : q8       ? DotQ8(q, kqb + j * a.kv_row_bytes, d)
                                 : DotQ4(q, kqb + j * a.kv_row_bytes, d);
    float s = dot * p.scale;
    if (key_pos) s += slope * key_pos[j];
    scores[j] = s;
    mx = std::max(mx, s);
    ++visible;
  }
  float* o = scores.data() + a.kv_len;  // the row's output accumulator lives after the scores
  std::fill(o, o + d, 0.0f);
  if (visible == 0) {
    // A padding query with no visible key: its output is never read by a real token; keep it finite.
    return;
  }
  float sum = 0.0f;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) continue;
    const float w = std::exp(scores[j] - mx);
    sum += w;
    if (quantized) {
      if (q8) {
        AxpyQ8(w, vqb + j * a.kv_row_bytes, d, o);
      } else {
        AxpyQ4(w, vqb + j * a.kv_row_bytes, d, o);
      }
      continue;
    }
    const float* vr = vb + j * a.kv_row_stride;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) o[e] += w * vr[e];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t e = 0; e < d; ++e) o[e] *= inv;
}

}  // namespace

void CachedAttentionGeneric(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0,
                            int64_t i1, float* out) {
  const int64_t group = p.num_heads / p.num_kv_heads, width = static_cast<int64_t>(p.num_heads) * p.head_dim;
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(a.kv_len + p.head_dim));
  for (int64_t h = kh * group; h < (kh + 1) * group; ++h) {
    for (int64_t i = i0; i < i1; ++i) {
      AttendCachedRow(a, p, b, h, i, scratch);
      std::memcpy(out + (b * a.q_len + i) * width + h * p.head_dim, scratch.data() + a.kv_len, sizeof(float) * p.head_dim);
    }
  }
}

CachedAttentionFn GetCachedAttention() {
  const CpuFeatures& f = GetCpuFeatures();
  return f.avx512f && f.avx512dq ? CachedAttentionAvx512 : CachedAttentionGeneric;
}

}  // namespace accel::cpu
