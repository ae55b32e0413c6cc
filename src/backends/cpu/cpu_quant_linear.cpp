// Linear on block-quantized weights (Q8_0, Q4_0): packed once into the group layout of
// quant_gemm.h, run with integer dot products against per-block int8 activations. Decode (one
// row) is bound by reading the weight bytes, 1.06 (Q8_0) or 0.56 (Q4_0) bytes per weight.
#include <algorithm>
#include <functional>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/kquant_gemm.h"
#include "backends/cpu/quant_gemm.h"
#include "core/aligned.h"
#include "core/thread_pool.h"

namespace accel {

namespace {
struct PackedQuant {
  int64_t n = 0, k = 0;
  DType dtype;
  std::shared_ptr<AlignedBuffer> buffer;
};
}  // namespace

Result<PackedLinear> CpuBackend::PackQuantizedLinear(const Tensor& w) {
  if (w.rank() != 2) return InvalidArgument("quantized linear weight must be 2-D, got " + ShapeToString(w.shape()));
  if (quant::IsKQuant(w.dtype())) return cpu::PackKQuantLinear(w);  // kquant_gemm.h
  if (w.dtype() != DType::kQ8_0 && w.dtype() != DType::kQ4_0) return Unsupported("cpu Linear on " + std::string(Name(w.dtype())) + " weights");
  auto p = std::make_shared<PackedQuant>();
  p->n = w.dim(0), p->k = w.dim(1), p->dtype = w.dtype();
  const size_t bytes = cpu::PackedQuantBytes(p->dtype, p->n, p->k);
  p->buffer = AlignedBuffer::Allocate(bytes);
  if (!p->buffer) return OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for a quantized weight");
  cpu::PackQuantRows(p->dtype, w.raw(), p->n, p->k, static_cast<uint8_t*>(p->buffer->data()));
  PackedLinear out;
  out.out_features = p->n;
  out.in_features = p->k;
  out.compute = w.dtype();
  out.data = std::move(p);
  return out;
}

Status CpuBackend::QuantizedLinear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) {
  if (quant::IsKQuant(w.compute)) return cpu::KQuantLinear(pool_, x, w, bias, act, y);
  if (x.dtype() != DType::kF32 || x.dim(-1) != w.in_features) return InvalidArgument("quantized Linear input " + ShapeToString(x.shape()));
  const auto& p = *static_cast<const PackedQuant*>(w.data.get());
  const int64_t m = static_cast<int64_t>(x.numel()) / p.k, n = p.n, k = p.k, blocks = k / cpu::kQuantBlock;
  if (static_cast<int64_t>(y.numel()) != m * n) return InvalidArgument("quantized Linear output shape " + ShapeToString(y.shape()));
  if (bias && static_cast<int64_t>(bias->numel()) != n) return InvalidArgument("quantized Linear bias size");
  const cpu::QuantKernels& kern = cpu::GetQuantKernels();
  // The activations, quantized once per call and shared by every task.
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xd;
  thread_local std::vector<int32_t> xs;
  xq.resize(static_cast<size_t>(m * k));
  xd.resize(static_cast<size_t>(m * blocks));
  xs.resize(static_cast<size_t>(m * blocks));
  // The buffers are this thread's: tasks on other threads get their addresses, not their names.
  int8_t* q = xq.data();
  float* d = xd.data();
  int32_t* s = xs.data();
  const float* xp = x.data<float>();
  pool_.ParallelFor(m, 16, [&](int64_t r0, int64_t r1) {
    kern.quantize(xp + r0 * k, r1 - r0, k, k, q + r0 * k, d + r0 * blocks, s + r0 * blocks);
  });
  const cpu::QuantizedRows rows{q, d, s, k, blocks};
  const cpu::QuantGemmFn gemm = p.dtype == DType::kQ8_0 ? kern.q8_0 : kern.q4_0;
  const auto* wbytes = static_cast<const uint8_t*>(p.buffer->data());
  const size_t group_bytes = cpu::PackedQuantBytes(p.dtype, cpu::kQuantGroupRows, k);
  const int64_t groups = (n + cpu::kQuantGroupRows - 1) / cpu::kQuantGroupRows;
  float* yp = y.data<float>();
  static const cpu::EpilogueFn epilogue = std::string_view(cpu::GemmIsa()) == "avx512" ? cpu::EpilogueAvx512 : cpu::EpilogueGeneric;
  const std::function<void(int64_t, int64_t)> run = [&](int64_t g0, int64_t g1) {
    const int64_t c0 = g0 * cpu::kQuantGroupRows;
    gemm(wbytes + g0 * group_bytes, g1 - g0, rows, m, yp + c0, n, n - c0);
    if (bias || act != Activation::kNone) {
      const int64_t c1 = std::min(n, g1 * cpu::kQuantGroupRows);
      epilogue(yp + c0, n, m, c1 - c0, bias ? bias->data<float>() + c0 : nullptr, act);
    }
  };
  if (m <= cpu::kGemvMaxRows) {
    // Decode streams the weight once: split as the f32/bf16 decode path does (gemv.h).
    cpu::StreamShares(pool_, groups, (int64_t{64} << 10) / static_cast<int64_t>(group_bytes), run);
    return Status::Ok();
  }
  // Prefill: 8 runs per thread so the threads stay balanced while each group is reused for all
  // rows.
  const int64_t runs = std::min<int64_t>(groups, 8 * pool_.num_threads());
  const int64_t per = (groups + runs - 1) / runs;
  pool_.Run(runs, [&](int64_t t) {
    const int64_t g0 = t * per, g1 = std::min(groups, g0 + per);
    if (g0 < g1) run(g0, g1);
  });
  return Status::Ok();
}

}  // namespace accel
