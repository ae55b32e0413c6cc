// Linear on block-quantized weights (Q8_0, Q4_0): the packed weight is the blocks themselves.
// Few rows (decode): each output is a dequantize-on-the-fly dot product (quant_dot*.cpp); many
// rows (prefill): weight slices are decoded into f32 GEMM panels (quant_panel*.cpp). Decode (one row) is
// bound by reading the weight bytes, 1.06 (Q8_0) or 0.56 (Q4_0) bytes per weight.
#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/quant_dot.h"
#include "backends/cpu/quant_panel.h"
#include "core/aligned.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel {

namespace {
struct PackedQuant {
  int64_t n = 0, k = 0;
  DType dtype;
  size_t row_bytes = 0;
  std::shared_ptr<AlignedBuffer> buffer;
};

const cpu::QuantDotKernels& QuantKernels() {
  static const cpu::QuantDotKernels& k = [] () -> const cpu::QuantDotKernels& {
    const CpuFeatures& f = GetCpuFeatures();
    return f.avx512f && f.avx512bw ? cpu::QuantDotAvx512() : cpu::QuantDotGeneric();
  }();
  return k;
}
// Prefill: from this many rows on, each weight slice is decoded once into an f32 panel and the
// packed f32 GEMM runs on it; below, row dot products that decode as they go cost less.
constexpr int64_t kDequantizedGemmRows = 16;

const cpu::QuantPanelKernels& PanelKernels() {
  // The AVX-512 decoder writes the 48-column panels of the AVX-512 f32 GEMM kernel.
  static const cpu::QuantPanelKernels& k =
      std::string_view(cpu::GemmIsa()) == "avx512" ? cpu::QuantPanelAvx512() : cpu::QuantPanelGeneric();
  return k;
}
}  // namespace

Result<PackedLinear> CpuBackend::PackQuantizedLinear(const Tensor& w) {
  if (w.rank() != 2) return InvalidArgument("quantized linear weight must be 2-D, got " + ShapeToString(w.shape()));
  if (w.dtype() != DType::kQ8_0 && w.dtype() != DType::kQ4_0) return Unsupported("cpu Linear on " + std::string(Name(w.dtype())) + " weights");
  auto p = std::make_shared<PackedQuant>();
  p->n = w.dim(0), p->k = w.dim(1), p->dtype = w.dtype();
  p->row_bytes = *BytesFor(w.dtype(), static_cast<size_t>(p->k));
  p->buffer = AlignedBuffer::Allocate(w.nbytes());
  if (!p->buffer) return OutOfMemory("cannot allocate " + std::to_string(w.nbytes()) + " bytes for a quantized weight");
  std::memcpy(p->buffer->data(), w.raw(), w.nbytes());
  PackedLinear out;
  out.out_features = p->n;
  out.in_features = p->k;
  out.compute = w.dtype();
  out.data = std::move(p);
  return out;
}

Status CpuBackend::QuantizedLinear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) {
  if (x.dtype() != DType::kF32 || x.dim(-1) != w.in_features) return InvalidArgument("quantized Linear input " + ShapeToString(x.shape()));
  const auto& p = *static_cast<const PackedQuant*>(w.data.get());
  const int64_t m = static_cast<int64_t>(x.numel()) / p.k, n = p.n;
  if (static_cast<int64_t>(y.numel()) != m * n) return InvalidArgument("quantized Linear output shape " + ShapeToString(y.shape()));
  if (bias && static_cast<int64_t>(bias->numel()) != n) return InvalidArgument("quantized Linear bias size");
  const auto* wbytes = static_cast<const uint8_t*>(p.buffer->data());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  if (m >= kDequantizedGemmRows) {
    const cpu::QuantPanelKernels& panels = PanelKernels();
    const cpu::DequantizePanelRowsFn decode = p.dtype == DType::kQ8_0 ? panels.q8_0 : panels.q4_0;
    return cpu::GemmDequantized(
        xp, m, p.k, n, p.k,
        [&](int64_t col0, int64_t cols, int64_t k0, int64_t kc, float* out, int64_t nr) {
          decode(wbytes + col0 * p.row_bytes, p.row_bytes, cols, k0, kc, out, nr);
        },
        yp, n, bias ? bias->data<float>() : nullptr, act, pool_);
  }
  const cpu::QuantRowDotFn dot = p.dtype == DType::kQ8_0 ? QuantKernels().q8_0 : QuantKernels().q4_0;
  const int64_t blocks = p.k / quant::kBlock;
  // Rows of activations per pass over a weight row: 8 rows of x stay in L1/L2 at typical K.
  constexpr int64_t kRowGroup = 8;
  pool_.ParallelFor(n, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t r0 = 0; r0 < m; r0 += kRowGroup) {
      const int64_t rows = std::min(kRowGroup, m - r0);
      for (int64_t j = n0; j < n1; ++j) dot(wbytes + j * p.row_bytes, blocks, xp + r0 * p.k, p.k, rows, yp + r0 * n + j, n);
    }
  });
  if (bias || act != Activation::kNone) {
    static const cpu::EpilogueFn epilogue = std::string_view(cpu::GemmIsa()) == "avx512" ? cpu::EpilogueAvx512 : cpu::EpilogueGeneric;
    epilogue(yp, n, m, n, bias ? bias->data<float>() : nullptr, act);
  }
  return Status::Ok();
}

}  // namespace accel
