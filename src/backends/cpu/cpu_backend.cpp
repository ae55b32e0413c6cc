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
  const int64_t n = x.dim(-1), rows = Rows(x);
  if (static_cast<int64_t>(gamma.numel()) != n || (beta && static_cast<int64_t>(beta->numel()) != n)) {
    return InvalidArgument("LayerNorm weight size " + std::to_string(gamma.numel()) + " != width " + std::to_string(n));
  }
  const auto& k = cpu::GetRowKernels();
  const float *xp = x.data<float>(), *g = gamma.data<float>(), *b = beta ? beta->data<float>() : nullptr;
  float* yp = y.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) k.layer_norm(xp + r * n, g, b, eps, n, yp + r * n);
  });
  return Status::Ok();
}

Status CpuBackend::RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
  const int64_t n = x.dim(-1), rows = Rows(x);
  if (static_cast<int64_t>(gamma.numel()) != n) return InvalidArgument("RmsNorm weight size mismatch");
  const auto& k = cpu::GetRowKernels();
  const float *xp = x.data<float>(), *g = gamma.data<float>();
  float* yp = y.data<float>();
  pool_.ParallelFor(rows, RowGrain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) k.rms_norm(xp + r * n, g, eps, n, yp + r * n);
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

Status CpuBackend::Attention(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride,
                             int64_t batch, int64_t q_len, int64_t kv_len, const AttentionParams& p, Tensor& out) {
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
  cpu::AttentionTaskArgs args{q, q_stride, k, v, kv_stride, q_len, kv_len, allowed.empty() ? nullptr : allowed.data(), &p,
                              out.data<float>()};
  const auto& kern = cpu::GetRowKernels();
  // Each task transposes its head's K once, so tasks take enough query rows to amortise it.
  constexpr int64_t kRowsPerTask = 32;
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

namespace {
// Lowers a grouped convolution to GEMMs: for each batch and group, the unfolded input
// [out_positions, cin_g * kernel] times the weight [cout_g, cin_g * kernel]^T.
Status ConvViaGemm(ThreadPool& pool, const float* x, const Tensor& w, const Tensor* bias, int64_t batch, int64_t cin,
                   const std::vector<int64_t>& in_dims, const std::vector<int64_t>& k_dims, int stride, int padding,
                   int groups, const std::vector<int64_t>& out_dims, float* y) {
  const int64_t cout = w.dim(0);
  const int64_t cin_g = cin / groups, cout_g = cout / groups;
  int64_t ksize = 1, in_size = 1, out_size = 1;
  for (auto d : k_dims) ksize *= d;
  for (auto d : in_dims) in_size *= d;
  for (auto d : out_dims) out_size *= d;
  const int64_t kdim = cin_g * ksize;
  std::vector<float> cols(static_cast<size_t>(out_size * kdim));
  std::vector<float> result(static_cast<size_t>(out_size * cout_g));
  const bool is2d = k_dims.size() == 2;
  for (int64_t g = 0; g < groups; ++g) {
    Tensor wg = Tensor::Wrap(DType::kF32, {cout_g, kdim}, const_cast<float*>(w.data<float>()) + g * cout_g * kdim, nullptr);
    ACCEL_ASSIGN_OR_RETURN(auto packed, cpu::PackWeight(wg, DType::kF32));
    const float* bg = bias ? bias->data<float>() + g * cout_g : nullptr;
    for (int64_t b = 0; b < batch; ++b) {
      const float* xb = x + (b * cin + g * cin_g) * in_size;
      pool.ParallelFor(out_size, 64, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) {
          float* row = cols.data() + o * kdim;
          const int64_t oh = is2d ? o / out_dims[1] : 0, ow = is2d ? o % out_dims[1] : o;
          for (int64_t c = 0; c < cin_g; ++c) {
            for (int64_t kk = 0; kk < ksize; ++kk) {
              const int64_t kh = is2d ? kk / k_dims[1] : 0, kw = is2d ? kk % k_dims[1] : kk;
              const int64_t ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
              const int64_t H = is2d ? in_dims[0] : 1, W = is2d ? in_dims[1] : in_dims[0];
              const bool inside = (!is2d || (ih >= 0 && ih < H)) && iw >= 0 && iw < W;
              row[c * ksize + kk] = inside ? xb[c * in_size + (is2d ? ih * W : 0) + iw] : 0.0f;
            }
          }
        }
      });
      cpu::GemmPacked(cols.data(), out_size, kdim, *packed, result.data(), cout_g, bg, Activation::kNone, pool);
      float* yb = y + (b * cout + g * cout_g) * out_size;
      for (int64_t o = 0; o < out_size; ++o) {
        for (int64_t c = 0; c < cout_g; ++c) yb[c * out_size + o] = result[o * cout_g + c];
      }
    }
  }
  return Status::Ok();
}
}  // namespace

Status CpuBackend::Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                          Tensor& y) {
  if (x.rank() != 3 || w.rank() != 3 || y.rank() != 3 || groups <= 0 || stride <= 0) return InvalidArgument("Conv1d shapes");
  if (x.dim(1) % groups || w.dim(0) % groups || w.dim(1) * groups != x.dim(1)) return InvalidArgument("Conv1d channels/groups");
  const int64_t lout = (x.dim(2) + 2 * padding - w.dim(2)) / stride + 1;
  if (y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != lout) return InvalidArgument("Conv1d output shape");
  return ConvViaGemm(pool_, x.data<float>(), w, bias, x.dim(0), x.dim(1), {x.dim(2)}, {w.dim(2)}, stride, padding, groups,
                     {lout}, y.data<float>());
}

Status CpuBackend::Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                          Tensor& y) {
  if (x.rank() != 4 || w.rank() != 4 || y.rank() != 4 || groups <= 0 || stride <= 0) return InvalidArgument("Conv2d shapes");
  if (x.dim(1) % groups || w.dim(0) % groups || w.dim(1) * groups != x.dim(1)) return InvalidArgument("Conv2d channels/groups");
  const int64_t ho = (x.dim(2) + 2 * padding - w.dim(2)) / stride + 1;
  const int64_t wo = (x.dim(3) + 2 * padding - w.dim(3)) / stride + 1;
  if (y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != ho || y.dim(3) != wo) return InvalidArgument("Conv2d output shape");
  return ConvViaGemm(pool_, x.data<float>(), w, bias, x.dim(0), x.dim(1), {x.dim(2), x.dim(3)}, {w.dim(2), w.dim(3)}, stride,
                     padding, groups, {ho, wo}, y.data<float>());
}

}  // namespace accel
