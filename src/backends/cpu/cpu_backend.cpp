#include "backends/cpu/cpu_backend.h"

#include <cstring>
#include <vector>

#include "backends/cpu/gemm.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/kernels.h"
#include "core/thread_pool.h"

namespace accel {

namespace {

Status RequireF32(const Tensor& t, const char* what) {
  if (t.dtype() != DType::kF32) return InvalidArgument(std::string(what) + " must be f32, got " + std::string(Name(t.dtype())));
  return Status::Ok();
}

int64_t Rows(const Tensor& t) { return t.dim(-1) ? static_cast<int64_t>(t.numel()) / t.dim(-1) : 0; }

// Rows per parallel task for row-wise kernels: enough work to amortise a task (~16K floats).
int64_t RowGrain(int64_t width) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width)); }

}  // namespace

CpuBackend::CpuBackend(ThreadPool& pool) : pool_(pool) {}

Result<PackedLinear> CpuBackend::PackLinear(const Tensor& w, DType compute) {
  if (Info(w.dtype()).is_quantized) return PackQuantizedLinear(w);  // weight format is a dtype
  ACCEL_ASSIGN_OR_RETURN(auto packed, cpu::PackWeight(w, compute));
  PackedLinear out;
  out.out_features = packed->n;
  out.in_features = packed->k;
  out.compute = compute;
  out.data = std::move(packed);
  return out;
}

Status CpuBackend::Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) {
  if (Info(w.compute).is_quantized) return QuantizedLinear(x, w, bias, act, y);  // issue 4
  ACCEL_RETURN_IF_ERROR(RequireF32(x, "Linear input"));
  if (x.dim(-1) != w.in_features) {
    return InvalidArgument("Linear input has " + std::to_string(x.dim(-1)) + " features, weight expects " +
                           std::to_string(w.in_features));
  }
  const int64_t m = Rows(x);
  if (Rows(y) != m || y.dim(-1) != w.out_features) return InvalidArgument("Linear output shape " + ShapeToString(y.shape()));
  if (bias && (bias->numel() != static_cast<size_t>(w.out_features) || bias->dtype() != DType::kF32)) {
    return InvalidArgument("Linear bias must be f32 [" + std::to_string(w.out_features) + "]");
  }
  const auto& packed = *static_cast<const cpu::PackedGemmWeight*>(w.data.get());
  // Decode-sized inputs stream the weight once (gemv.h); everything else is a GEMM.
  if (cpu::GemvPacked(x.data<float>(), m, w.in_features, packed, y.data<float>(), w.out_features,
                      bias ? bias->data<float>() : nullptr, act, pool_)) {
    return Status::Ok();
  }
  cpu::GemmPacked(x.data<float>(), m, w.in_features, packed, y.data<float>(), w.out_features,
                   bias ? bias->data<float>() : nullptr, act, pool_);
  return Status::Ok();
}

Status CpuBackend::LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) {
  const int64_t n = x.dim(-1), rows = x.rows(), xs = x.row_stride(), ys = y.row_stride();
  if (static_cast<int64_t>(gamma.numel()) != n || (beta && static_cast<int64_t>(beta->numel()) != n)) {
    return InvalidArgument("LayerNorm weight size " + std::to_string(gamma.numel()) + " != width " + std::to_string(n));
  }
  if (y.shape() != x.shape()) return InvalidArgument("LayerNorm output shape " + ShapeToString(y.shape()));
  const auto& k = cpu::GetRowKernels();
  const float *xp = x.data<float>(), *g = gamma.data<float>(), *b = beta ? beta->data<float>() : nullptr;
  float* yp = y.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) k.layer_norm(xp + r * xs, g, b, eps, n, yp + r * ys);
  });
  return Status::Ok();
}

Status CpuBackend::RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
  const int64_t n = x.dim(-1), rows = x.rows(), xs = x.row_stride(), ys = y.row_stride();
  const int64_t group = static_cast<int64_t>(gamma.numel());
  if (group <= 0 || n % group != 0) return InvalidArgument("RmsNorm weight size " + std::to_string(group) + " does not divide width " + std::to_string(n));
  if (y.shape() != x.shape()) return InvalidArgument("RmsNorm output shape " + ShapeToString(y.shape()));
  const auto& k = cpu::GetRowKernels();
  const float *xp = x.data<float>(), *g = gamma.data<float>();
  float* yp = y.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t at = 0; at < n; at += group) k.rms_norm(xp + r * xs + at, g, eps, group, yp + r * ys + at);
    }
  });
  return Status::Ok();
}

Status CpuBackend::Activate(Activation act, Tensor& x) {
  ACCEL_RETURN_IF_ERROR(RequireF32(x, "activation input"));
  if (act == Activation::kNone) return Status::Ok();
  const int64_t n = x.dim(-1), rows = Rows(x);
  // The GEMM epilogue is the one vectorised activation implementation; reuse it.
  static const cpu::EpilogueFn epilogue = std::string_view(cpu::GemmIsa()) == "avx512" ? cpu::EpilogueAvx512 : cpu::EpilogueGeneric;
  float* p = x.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) { epilogue(p + r0 * n, n, r1 - r0, n, nullptr, act); });
  return Status::Ok();
}

Status CpuBackend::Softmax(Tensor& x) {
  const int64_t n = x.dim(-1), rows = Rows(x);
  const auto& k = cpu::GetRowKernels();
  float* p = x.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) k.softmax(p + r * n, n);
  });
  return Status::Ok();
}

Status CpuBackend::Add(const Tensor& a, const Tensor& b, Tensor& y) {
  const size_t n = a.numel();
  if (y.numel() != n || (b.numel() != n && (b.numel() == 0 || n % b.numel() != 0 || b.dim(-1) != a.dim(-1)))) {
    return InvalidArgument("Add shapes " + ShapeToString(a.shape()) + " and " + ShapeToString(b.shape()));
  }
  const float *ap = a.data<float>(), *bp = b.data<float>();
  float* yp = y.data<float>();
  const size_t bn = b.numel();
  pool_.ParallelFor(static_cast<int64_t>(n), 16384, [&](int64_t i0, int64_t i1) {
    if (bn == n) {
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) yp[i] = ap[i] + bp[i];
    } else {
      for (int64_t i = i0; i < i1; ++i) yp[i] = ap[i] + bp[static_cast<size_t>(i) % bn];
    }
  });
  return Status::Ok();
}

Status CpuBackend::Mul(const Tensor& a, const Tensor& b, Tensor& y) {
  const size_t n = a.numel();
  if (b.numel() != n || y.numel() != n) return InvalidArgument("Mul shapes differ");
  const float *ap = a.data<float>(), *bp = b.data<float>();
  float* yp = y.data<float>();
  pool_.ParallelFor(static_cast<int64_t>(n), 16384, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) yp[i] = ap[i] * bp[i];
  });
  return Status::Ok();
}

Status CpuBackend::Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) {
  return BiasedAttention(q, k, v, p, nullptr, out);
}

// T5's relative-position bias rides on the same row kernels: one extra vector add per score row.
Status CpuBackend::AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                                     const Tensor& score_bias, Tensor& out) {
  if (score_bias.dtype() != DType::kF32 || !score_bias.contiguous() ||
      score_bias.numel() != static_cast<size_t>(p.num_heads * q.dim(1) * k.dim(1))) {
    return InvalidArgument("attention score bias " + ShapeToString(score_bias.shape()) + " for " +
                           std::to_string(p.num_heads) + " heads x " + std::to_string(q.dim(1)) + " x " + std::to_string(k.dim(1)));
  }
  return BiasedAttention(q, k, v, p, score_bias.data<float>(), out);
}

Status CpuBackend::BiasedAttention(const Tensor& qt, const Tensor& kt, const Tensor& vt, const AttentionParams& p,
                                   const float* score_bias, Tensor& out) {
  if (qt.rank() != 3 || kt.rank() != 3 || kt.shape() != vt.shape() || kt.row_stride() != vt.row_stride() ||
      qt.dim(0) != kt.dim(0) || qt.dtype() != DType::kF32 || kt.dtype() != DType::kF32) {
    return InvalidArgument("attention q " + ShapeToString(qt.shape()) + " / k " + ShapeToString(kt.shape()) + " / v " +
                           ShapeToString(vt.shape()));
  }
  const float* q = qt.data<float>();
  const float* k = kt.data<float>();
  const float* v = vt.data<float>();
  const int64_t q_stride = qt.row_stride(), kv_stride = kt.row_stride();
  const int64_t batch = qt.dim(0), q_len = qt.dim(1), kv_len = kt.dim(1);
  if (p.num_heads <= 0 || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.head_dim <= 0) {
    return InvalidArgument("attention heads " + std::to_string(p.num_heads) + "/" + std::to_string(p.num_kv_heads));
  }
  if (out.numel() != static_cast<size_t>(batch * q_len * p.num_heads * p.head_dim)) return InvalidArgument("attention output shape");
  std::vector<uint8_t> allowed;
  if (p.key_padding_mask) {
    const Tensor& m = *p.key_padding_mask;
    if (m.numel() != static_cast<size_t>(batch * kv_len)) {
      return InvalidArgument("attention mask " + ShapeToString(m.shape()) + " does not match batch " + std::to_string(batch) +
                             " x keys " + std::to_string(kv_len));
    }
    allowed.resize(m.numel());
    for (size_t i = 0; i < m.numel(); ++i) {
      switch (m.dtype()) {
        case DType::kI64: allowed[i] = m.data<int64_t>()[i] != 0; break;
        case DType::kI32: allowed[i] = m.data<int32_t>()[i] != 0; break;
        case DType::kF32: allowed[i] = m.data<float>()[i] != 0.0f; break;
        default: return InvalidArgument("attention mask dtype " + std::string(Name(m.dtype())));
      }
    }
  }
  // Packed once per call, in buffers that persist per calling thread (steady state does not
  // allocate); the tasks share them read-only.
  thread_local std::vector<float> kt_buffer, v_buffer;
  const size_t kv_floats = static_cast<size_t>(batch * kv_len * p.num_kv_heads * p.head_dim);
  if (kt_buffer.size() < kv_floats) {
    kt_buffer.resize(kv_floats);
    v_buffer.resize(kv_floats);
  }
  cpu::PackKv(k, v, kv_stride, batch, kv_len, p.num_kv_heads, p.head_dim, kt_buffer.data(), v_buffer.data(), pool_);
  cpu::AttentionTaskArgs args{q, q_stride, {kt_buffer.data(), v_buffer.data()}, q_len, kv_len,
                              allowed.empty() ? nullptr : allowed.data(), &p, out.data<float>(), score_bias};
  const auto& kern = cpu::GetRowKernels();
  // A multiple of the AVX-512 kernel's 6-row tile; small enough that short sequences still
  // give every thread tasks.
  constexpr int64_t kRowsPerTask = 48;
  const int64_t q_blocks = (q_len + kRowsPerTask - 1) / kRowsPerTask;
  pool_.Run(batch * p.num_heads * q_blocks, [&](int64_t t) {
    const int64_t qb = t % q_blocks;
    const int64_t h = (t / q_blocks) % p.num_heads;
    const int64_t b = t / (q_blocks * p.num_heads);
    kern.attention(args, b, h, qb * kRowsPerTask, std::min(q_len, (qb + 1) * kRowsPerTask));
  });
  return Status::Ok();
}

Status CpuBackend::Embedding(const Tensor& table, const Tensor& ids, Tensor& out) {
  const int64_t vocab = table.dim(0), width = table.dim(-1);
  const size_t n = ids.numel();
  if (out.numel() != n * static_cast<size_t>(width)) return InvalidArgument("embedding output shape");
  for (size_t i = 0; i < n; ++i) {
    int64_t id = ids.dtype() == DType::kI64 ? ids.data<int64_t>()[i] : ids.data<int32_t>()[i];
    if (id < 0 || id >= vocab) {
      return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
    }
    float* dst = out.data<float>() + i * width;
    if (table.dtype() == DType::kF32) {
      std::memcpy(dst, table.data<float>() + id * width, sizeof(float) * width);
    } else {
      return InvalidArgument("embedding table must be f32");
    }
  }
  return Status::Ok();
}

}  // namespace accel
