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

// One query row of one head against the keys it may see. `kt` is this head's K transposed
// ([head_dim][kv_len]) so the scores are axpy sweeps over keys rather than one horizontal
// reduction per key. Scores live in a per-thread buffer of kv_len floats: memory grows with
// the sequence, never with its square. `bias` (null, or kv_len floats) is added to the scaled
// scores before masking and softmax.
inline void AttendRow(const float* q, const float* kt, const float* v, int64_t kv_stride, int64_t key_begin,
                      int64_t key_end, const uint8_t* allowed, int64_t kv_len, int64_t head_dim, float scale,
                      const float* bias, float* scores, float* out) {
  float* s = scores + key_begin;
  const int64_t n = key_end - key_begin;
  std::fill(s, s + n, 0.0f);
  // Four rows of K^T per sweep: a quarter of the read-modify-writes of the score row.
  int64_t d = 0;
  for (; d + 4 <= head_dim; d += 4) {
    const float q0 = q[d] * scale, q1 = q[d + 1] * scale, q2 = q[d + 2] * scale, q3 = q[d + 3] * scale;
    const float* r0 = kt + d * kv_len + key_begin;
    const float* r1 = r0 + kv_len;
    const float* r2 = r1 + kv_len;
    const float* r3 = r2 + kv_len;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] += q0 * r0[j] + q1 * r1[j] + q2 * r2[j] + q3 * r3[j];
  }
  for (; d < head_dim; ++d) {
    const float qd = q[d] * scale;
    const float* row = kt + d * kv_len + key_begin;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] += qd * row[j];
  }
  if (bias) {
    const float* b = bias + key_begin;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] += b[j];
  }
  float mx = -std::numeric_limits<float>::infinity();
  int64_t visible = 0;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) continue;
    mx = std::max(mx, scores[j]);
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
  // Probabilities first (masked keys weigh 0), then V accumulated four keys per sweep.
  float sum = 0.0f;
  for (int64_t j = key_begin; j < key_end; ++j) {
    const float p = (allowed && !allowed[j]) ? 0.0f : std::exp(scores[j] - mx);
    scores[j] = p;
    sum += p;
  }
  int64_t j = key_begin;
  for (; j + 4 <= key_end; j += 4) {
    const float p0 = scores[j], p1 = scores[j + 1], p2 = scores[j + 2], p3 = scores[j + 3];
    const float* v0 = v + j * kv_stride;
    const float* v1 = v0 + kv_stride;
    const float* v2 = v1 + kv_stride;
    const float* v3 = v2 + kv_stride;
#pragma omp simd
    for (int64_t x = 0; x < head_dim; ++x) out[x] += p0 * v0[x] + p1 * v1[x] + p2 * v2[x] + p3 * v3[x];
  }
  for (; j < key_end; ++j) {
    const float p = scores[j];
    const float* vr = v + j * kv_stride;
#pragma omp simd
    for (int64_t x = 0; x < head_dim; ++x) out[x] += p * vr[x];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t d = 0; d < head_dim; ++d) out[d] *= inv;
}

inline void AttentionTask(const AttentionTaskArgs& t, int64_t b, int64_t h, int64_t q0, int64_t q1) {
  const AttentionParams& p = *t.params;
  const int64_t group = p.num_heads / p.num_kv_heads;
  const int64_t d = p.head_dim;
  thread_local std::vector<float> scores;
  scores.resize(static_cast<size_t>(t.kv_len));
  const uint8_t* allowed = t.allowed ? t.allowed + b * t.kv_len : nullptr;
  const int64_t head = (b * p.num_kv_heads + h / group) * t.kv_len * d;
  const float *kt = t.kv.kt + head, *vb = t.kv.v + head;
  for (int64_t i = q0; i < q1; ++i) {
    const int64_t pos = p.query_offset + i;
    int64_t key_end = p.causal ? std::min<int64_t>(t.kv_len, pos + 1) : t.kv_len;
    int64_t key_begin = p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : 0;
    key_begin = std::min(key_begin, key_end);
    const float* q = t.q + (b * t.q_len + i) * t.q_stride + h * d;
    float* o = t.out + (b * t.q_len + i) * (p.num_heads * d) + h * d;
    const float* bias = t.score_bias ? t.score_bias + (h * t.q_len + i) * t.kv_len : nullptr;
    AttendRow(q, kt, vb, d, key_begin, key_end, allowed, t.kv_len, d, p.scale, bias, scores.data(), o);
  }
}

}  // namespace accel::cpu::ACCEL_ISA_NS
