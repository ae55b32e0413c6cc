// CPU operators for decoder-only generation: RoPE, attention over a KV cache (GQA, causal,
// sliding window, padding mask, ALiBi), the gated MLP activation and scaling.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "core/thread_pool.h"

namespace accel {

namespace {

float DotF32(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// One query row of one head against the visible keys of the cache.
void AttendCachedRow(const CachedAttentionArgs& a, const AttentionParams& p, int64_t b, int64_t h, int64_t i,
                     std::vector<float>& scores) {
  const int64_t d = p.head_dim;
  const int64_t kh = h / (p.num_heads / p.num_kv_heads);
  const int64_t pos = p.query_offset + i;
  const int64_t key_end = p.causal ? std::min<int64_t>(a.kv_len, pos + 1) : a.kv_len;
  const int64_t key_begin = p.sliding_window > 0 ? std::max<int64_t>(0, pos - p.sliding_window + 1) : 0;
  const float* q = a.q + (b * a.q_len + i) * a.q_stride + h * d;
  const float* kb = a.k + b * a.kv_batch_stride + kh * d;
  const float* vb = a.v + b * a.kv_batch_stride + kh * d;
  const uint8_t* allowed = a.allowed ? a.allowed + b * a.mask_stride : nullptr;
  const float* key_pos = a.key_positions ? a.key_positions + b * a.mask_stride : nullptr;
  const float slope = a.alibi_slopes ? a.alibi_slopes[h] : 0.0f;
  float mx = -std::numeric_limits<float>::infinity();
  int64_t visible = 0;
  for (int64_t j = key_begin; j < key_end; ++j) {
    if (allowed && !allowed[j]) continue;
    float s = DotF32(q, kb + j * a.kv_row_stride, d) * p.scale;
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
    const float* vr = vb + j * a.kv_row_stride;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) o[e] += w * vr[e];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t e = 0; e < d; ++e) o[e] *= inv;
}

}  // namespace

Status CpuBackend::Rope(float* x, int64_t rows, int64_t row_stride, const int64_t* positions, const RopeParams& p) {
  if (p.num_heads <= 0 || p.head_dim <= 0 || p.rotary_dim <= 0 || p.rotary_dim > p.head_dim || p.rotary_dim % 2 != 0 ||
      !p.inv_freq || row_stride < static_cast<int64_t>(p.num_heads) * p.head_dim) {
    return InvalidArgument("Rope: rotary_dim " + std::to_string(p.rotary_dim) + " of head_dim " + std::to_string(p.head_dim));
  }
  const int64_t half = p.rotary_dim / 2;
  pool_.ParallelFor(rows, 8, [&](int64_t r0, int64_t r1) {
    std::vector<float> cs(static_cast<size_t>(2 * half));
    for (int64_t r = r0; r < r1; ++r) {
      // Angles in double: position * inv_freq loses digits in f32 at long contexts.
      for (int64_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(positions[r]) * static_cast<double>(p.inv_freq[i]);
        cs[2 * i] = static_cast<float>(std::cos(angle)) * p.attention_factor;
        cs[2 * i + 1] = static_cast<float>(std::sin(angle)) * p.attention_factor;
      }
      for (int h = 0; h < p.num_heads; ++h) {
        float* v = x + r * row_stride + static_cast<int64_t>(h) * p.head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i0 = p.interleaved ? 2 * i : i, i1 = p.interleaved ? 2 * i + 1 : i + half;
          const float c = cs[2 * i], s = cs[2 * i + 1];
          const float a = v[i0], b = v[i1];
          v[i0] = a * c - b * s;
          v[i1] = b * c + a * s;
        }
      }
    }
  });
  return Status::Ok();
}

Status CpuBackend::CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out) {
  if (p.num_heads <= 0 || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.head_dim <= 0) {
    return InvalidArgument("attention heads " + std::to_string(p.num_heads) + "/" + std::to_string(p.num_kv_heads));
  }
  if (a.kv_len <= 0 || a.q_len <= 0 || a.batch <= 0 || p.query_offset + a.q_len > a.kv_len ||
      (a.allowed && a.mask_stride < a.kv_len) || (a.alibi_slopes && !a.key_positions)) {
    return InvalidArgument("CachedAttention: inconsistent lengths (q " + std::to_string(a.q_len) + ", kv " +
                           std::to_string(a.kv_len) + ", offset " + std::to_string(p.query_offset) + ")");
  }
  const int64_t width = static_cast<int64_t>(p.num_heads) * p.head_dim;
  if (out.dtype() != DType::kF32 || out.numel() != static_cast<size_t>(a.batch * a.q_len * width)) {
    return InvalidArgument("CachedAttention output shape " + ShapeToString(out.shape()));
  }
  float* o = out.data<float>();
  const int64_t tasks = a.batch * p.num_heads;
  pool_.Run(tasks, [&](int64_t t) {
    const int64_t h = t % p.num_heads, b = t / p.num_heads;
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(a.kv_len + p.head_dim));
    for (int64_t i = 0; i < a.q_len; ++i) {
      AttendCachedRow(a, p, b, h, i, scratch);
      std::memcpy(o + (b * a.q_len + i) * width + h * p.head_dim, scratch.data() + a.kv_len, sizeof(float) * p.head_dim);
    }
  });
  return Status::Ok();
}

Status CpuBackend::GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) {
  const int64_t f2 = gate_up.dim(-1), f = out.dim(-1);
  const int64_t rows = f2 ? static_cast<int64_t>(gate_up.numel()) / f2 : 0;
  if (gate_up.dtype() != DType::kF32 || out.dtype() != DType::kF32 || f2 != 2 * f ||
      out.numel() != static_cast<size_t>(rows * f)) {
    return InvalidArgument("GatedActivation shapes " + ShapeToString(gate_up.shape()) + " -> " + ShapeToString(out.shape()));
  }
  static const cpu::EpilogueFn epilogue =
      std::string_view(cpu::GemmIsa()) == "avx512" ? cpu::EpilogueAvx512 : cpu::EpilogueGeneric;
  const float* src = gate_up.data<float>();
  float* dst = out.data<float>();
  pool_.ParallelFor(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, f)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* y = dst + r * f;
      const float* g = src + r * f2;
      std::memcpy(y, g, sizeof(float) * f);
      epilogue(y, f, 1, f, nullptr, act);  // the vectorised activation, as in Activate()
      const float* u = g + f;
#pragma omp simd
      for (int64_t i = 0; i < f; ++i) y[i] *= u[i];
    }
  });
  return Status::Ok();
}

Status CpuBackend::Scale(Tensor& x, float s) {
  if (x.dtype() != DType::kF32) return InvalidArgument("Scale input must be f32");
  float* p = x.data<float>();
  pool_.ParallelFor(static_cast<int64_t>(x.numel()), 16384, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) p[i] *= s;
  });
  return Status::Ok();
}

}  // namespace accel
