#pragma once
// Row-wise kernels (norms, softmax, attention) written once in portable C++ whose inner loops
// vectorise; included by kernels_avx512.cpp and kernels_generic.cpp, which compile it for their
// ISA inside their own namespace. `ACCEL_ISA_NS` names that namespace.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backends/cpu/kernels.h"

namespace accel::cpu::ACCEL_ISA_NS {

inline float Dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

inline void LayerNormRow(const float* x, const float* gamma, const float* beta, float eps, int64_t n, float* y) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float var = 0.0f;
#pragma omp simd reduction(+ : var)
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * gamma[i] + (beta ? beta[i] : 0.0f);
}

inline void RmsNormRow(const float* x, const float* gamma, float eps, int64_t n, float* y) {
  float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * gamma[i];
}

inline void SoftmaxRow(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

// One query row of one head against all keys it may see. Scores live in a per-thread buffer
// of kv_len floats: memory grows with the sequence, never with its square.
inline void AttendRow(const float* q, const float* k, const float* v, int64_t kv_stride, int64_t key_begin,
                      int64_t key_end, const uint8_t* allowed, int64_t kv_len, int64_t head_dim, float scale,
                      float* scores, float* out) {
  float mx = -std::numeric_limits<float>::infinity();
  int64_t visible = 0;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) {
      scores[j] = -std::numeric_limits<float>::infinity();
      continue;
    }
    float s = Dot(q, k + j * kv_stride, head_dim) * scale;
    scores[j] = s;
    mx = std::max(mx, s);
    ++visible;
  }
  std::fill(out, out + head_dim, 0.0f);
  if (visible == 0) {
    // Every key masked: HF's additive-mask softmax degenerates to a uniform average.
    for (int64_t j = 0; j < kv_len; ++j) {
      const float* vr = v + j * kv_stride;
#pragma omp simd
      for (int64_t d = 0; d < head_dim; ++d) out[d] += vr[d];
    }
    for (int64_t d = 0; d < head_dim; ++d) out[d] /= static_cast<float>(kv_len);
    return;
  }
  float sum = 0.0f;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) continue;
    const float p = std::exp(scores[j] - mx);
    sum += p;
    const float* vr = v + j * kv_stride;
#pragma omp simd
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * vr[d];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t d = 0; d < head_dim; ++d) out[d] *= inv;
}

inline void AttentionTask(const AttentionTaskArgs& t, int64_t b, int64_t h, int64_t q0, int64_t q1) {
  const AttentionParams& p = *t.params;
  const int64_t group = p.num_heads / p.num_kv_heads;
  const int64_t kh = h / group;
  const int64_t d = p.head_dim;
  thread_local std::vector<float> scores;
  scores.resize(static_cast<size_t>(t.kv_len));
  const uint8_t* allowed = t.allowed ? t.allowed + b * t.kv_len : nullptr;
  const float* kb = t.k + b * t.kv_len * t.kv_stride + kh * d;
  const float* vb = t.v + b * t.kv_len * t.kv_stride + kh * d;
  for (int64_t i = q0; i < q1; ++i) {
    const int64_t pos = p.query_offset + i;
    int64_t key_end = p.causal ? std::min<int64_t>(t.kv_len, pos + 1) : t.kv_len;
    int64_t key_begin = p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : 0;
    const float* q = t.q + (b * t.q_len + i) * t.q_stride + h * d;
    float* o = t.out + (b * t.q_len + i) * (p.num_heads * d) + h * d;
    AttendRow(q, kb, vb, t.kv_stride, key_begin, key_end, allowed, t.kv_len, d, p.scale, scores.data(), o);
  }
}

}  // namespace accel::cpu::ACCEL_ISA_NS
