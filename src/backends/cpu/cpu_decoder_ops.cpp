// CPU operators for decoder-only generation: RoPE, attention over a KV cache (GQA, causal,
// sliding window, padding mask, ALiBi), the gated MLP activation and scaling.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backends/cpu/cached_attention.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "core/thread_pool.h"
#include "formats/quant.h"

namespace accel {

Status CpuBackend::Rope(Tensor& xt, const Tensor& pos, const RopeParams& p) {
  const int64_t rows = xt.rows(), row_stride = xt.row_stride();
  if (p.num_heads <= 0 || p.head_dim <= 0 || p.rotary_dim <= 0 || p.rotary_dim > p.head_dim || p.rotary_dim % 2 != 0 ||
      static_cast<int64_t>(p.inv_freq.size()) < p.rotary_dim / 2 || xt.dtype() != DType::kF32 ||
      xt.dim(-1) < static_cast<int64_t>(p.num_heads) * p.head_dim) {
    return InvalidArgument("Rope: rotary_dim " + std::to_string(p.rotary_dim) + " of head_dim " + std::to_string(p.head_dim) +
                           " over " + ShapeToString(xt.shape()));
  }
  if (pos.dtype() != DType::kI64 || pos.numel() != static_cast<size_t>(rows)) {
    return InvalidArgument("Rope: positions " + ShapeToString(pos.shape()) + " for " + std::to_string(rows) + " rows");
  }
  float* x = xt.data<float>();
  const int64_t* positions = pos.data<int64_t>();
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

Status CpuBackend::CachedAttention(const CachedAttentionArgs& args, const AttentionParams& p, Tensor& out) {
  if (args.q.rank() != 3 || args.k.rank() != 3 || args.k.shape() != args.v.shape() || !args.k.contiguous() ||
      !args.v.contiguous() || args.k.dtype() != args.v.dtype() ||
      (args.allowed.defined() && (args.allowed.rank() != 2 || args.allowed.dim(0) != args.k.dim(0)))) {
    return InvalidArgument("CachedAttention: q " + ShapeToString(args.q.shape()) + ", cache " + ShapeToString(args.k.shape()));
  }
  const DType kv_dtype = args.k.dtype();
  if (kv_dtype != DType::kF32 && kv_dtype != DType::kQ8_0 && kv_dtype != DType::kQ4_0) {
    return InvalidArgument("CachedAttention over a " + std::string(Name(kv_dtype)) + " KV cache");
  }
  if (kv_dtype != DType::kF32 && (p.head_dim % quant::kBlock != 0 || args.k.dim(2) % quant::kBlock != 0)) {
    return InvalidArgument("CachedAttention: a " + std::string(Name(kv_dtype)) + " KV cache needs head_dim % 32 == 0, got " +
                           std::to_string(p.head_dim));
  }
  cpu::CachedAttentionRaw a;
  a.q = args.q.data<float>();
  a.q_stride = args.q.row_stride();
  a.kv_dtype = kv_dtype;
  if (kv_dtype == DType::kF32) {
    a.k = args.k.data<float>();
    a.v = args.v.data<float>();
  } else {
    a.kq = args.k.data<uint8_t>();
    a.vq = args.v.data<uint8_t>();
    a.kv_row_bytes = static_cast<int64_t>(*BytesFor(kv_dtype, static_cast<size_t>(args.k.dim(2))));
    a.kv_batch_bytes = a.kv_row_bytes * args.k.dim(1);
  }
  a.kv_row_stride = args.k.dim(2);
  a.kv_batch_stride = args.k.dim(1) * args.k.dim(2);
  a.batch = args.q.dim(0);
  a.q_len = args.q.dim(1);
  a.kv_len = args.kv_len;
  if (args.allowed.defined()) {
    a.allowed = args.allowed.data<uint8_t>();
    a.mask_stride = args.allowed.dim(1);
  }
  if (args.alibi_slopes.defined()) {
    a.alibi_slopes = args.alibi_slopes.data<float>();
    a.key_positions = args.key_positions.defined() ? args.key_positions.data<float>() : nullptr;
  }
  if (a.batch != args.k.dim(0) || a.kv_len > args.k.dim(1)) {
    return InvalidArgument("CachedAttention: " + std::to_string(a.kv_len) + " keys in a cache of " + ShapeToString(args.k.shape()));
  }
  if (p.num_heads <= 0 || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.head_dim <= 0 ||
      (kv_dtype != DType::kF32 && static_cast<int64_t>(p.num_kv_heads) * p.head_dim != args.k.dim(2))) {
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
  // Prefill-sized steps over a quantized cache: every query row would dequantize every key and
  // value block again, so the span [0, kv_len) is dequantized once into f32 scratch and the f32
  // kernel runs on it (the same values the block kernels compute with). Decode (and short
  // steps) read the blocks in place.
  constexpr int64_t kDequantizeOnceRows = 16;
  thread_local std::vector<float> k32, v32;
  if (kv_dtype != DType::kF32 && a.q_len >= kDequantizeOnceRows) {
    const int64_t kw = args.k.dim(2);
    const size_t n = static_cast<size_t>(a.batch * a.kv_len * kw);
    k32.resize(n);
    v32.resize(n);
    // The pool's threads have thread_locals of their own: hand them this thread's buffers.
    float* const k_out = k32.data();
    float* const v_out = v32.data();
    pool_.ParallelFor(a.batch * a.kv_len, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / a.kv_len, j = r % a.kv_len;
        const int64_t at = b * a.kv_batch_bytes + j * a.kv_row_bytes;
        quant::DequantizeBlocks(kv_dtype, a.kq + at, static_cast<size_t>(kw), k_out + r * kw);
        quant::DequantizeBlocks(kv_dtype, a.vq + at, static_cast<size_t>(kw), v_out + r * kw);
      }
    });
    a.kv_dtype = DType::kF32;
    a.k = k32.data();
    a.v = v32.data();
    a.kv_row_stride = kw;
    a.kv_batch_stride = a.kv_len * kw;
  }
  static const cpu::CachedAttentionFn kernel = cpu::GetCachedAttention();
  // Tasks: (batch row, KV head, run of query rows); prefill splits the rows so both threads
  // have work even with few KV heads.
  constexpr int64_t kRowsPerTask = 16;
  const int64_t q_runs = (a.q_len + kRowsPerTask - 1) / kRowsPerTask;
  pool_.Run(a.batch * p.num_kv_heads * q_runs, [&](int64_t t) {
    const int64_t run = t % q_runs, kh = (t / q_runs) % p.num_kv_heads, b = t / (q_runs * p.num_kv_heads);
    kernel(a, p, b, kh, run * kRowsPerTask, std::min(a.q_len, (run + 1) * kRowsPerTask), o);
  });
  return Status::Ok();
}

Status CpuBackend::QuantizeRows(const Tensor& src, Tensor& dst) {
  const DType to = dst.dtype();
  if (src.dtype() != DType::kF32 || (to != DType::kQ8_0 && to != DType::kQ4_0) || src.shape() != dst.shape() ||
      !dst.contiguous() || src.shape().empty() || src.dim(-1) % quant::kBlock != 0) {
    return InvalidArgument("QuantizeRows: " + std::string(Name(src.dtype())) + " " + ShapeToString(src.shape()) + " into " +
                           std::string(Name(to)) + " " + ShapeToString(dst.shape()));
  }
  const int64_t rows = src.rows(), n = src.dim(-1), stride = src.row_stride();
  const size_t row_bytes = *BytesFor(to, static_cast<size_t>(n));
  const float* x = src.data<float>();
  uint8_t* y = dst.data<uint8_t>();
  pool_.ParallelFor(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
    // Round to nearest, as ggml's reference Q4_0 (the weight formats' scale search is for weights).
    for (int64_t r = r0; r < r1; ++r) {
      quant::QuantizeBlocks(to, x + r * stride, static_cast<size_t>(n), y + r * row_bytes, {quant::ScaleSearch::kNearest, nullptr});
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
