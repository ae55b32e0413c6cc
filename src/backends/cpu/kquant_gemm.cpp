// K-quant Linear: the scalar kernels that define the arithmetic (kquant_gemm.h), the run-time
// choice of kernel set, and the driver that quantizes activations and splits the work.
#include "backends/cpu/kquant_gemm.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "backends/cpu/gemm.h"
#include "backends/cpu/gemv.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"

namespace accel::cpu {

namespace {

using quant::BlockQ4_K;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;

// One super-block's contribution, in the order every kernel set uses: d_x * d_w * integer
// sum, minus d_x * dmin * integer min-sum.
template <typename Block>
float DotScaleMin(const Block& w, const BlockQ8_K& x) {
  int32_t sumi = 0, summ = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    quant::ScaleMinK4(j, w.scales, &sc, &m);
    int32_t s = 0;
    for (int l = 0; l < 32; ++l) s += quant::QuantAt(w, j, l) * x.qs[32 * j + l];
    sumi += sc * s;
    summ += m * (x.bsums[2 * j] + x.bsums[2 * j + 1]);
  }
  return x.d * F16ToF32(w.d) * static_cast<float>(sumi) - x.d * F16ToF32(w.dmin) * static_cast<float>(summ);
}
float DotQ4K(const BlockQ4_K& w, const BlockQ8_K& x) { return DotScaleMin(w, x); }
float DotQ5K(const BlockQ5_K& w, const BlockQ8_K& x) { return DotScaleMin(w, x); }

float DotQ6K(const BlockQ6_K& w, const BlockQ8_K& x) {
  int32_t sumi = 0;
  for (int i = 0; i < quant::kSuperBlock; ++i) {
    const int h = i / 128, quarter = (i % 128) / 32, l = i % 32;
    const uint8_t lo = w.ql[64 * h + 32 * (quarter % 2) + l];
    const int q = (quarter < 2 ? lo & 0xF : lo >> 4) | (((w.qh[32 * h + l] >> (2 * quarter)) & 3) << 4);
    sumi += w.scales[i / 16] * q * x.qs[i];
  }
  int32_t offset = 0;
  for (int j = 0; j < 16; ++j) offset += w.scales[j] * x.bsums[j];
  return x.d * F16ToF32(w.d) * static_cast<float>(sumi - 32 * offset);
}

float DotQ3K(const quant::BlockQ3_K& w, const BlockQ8_K& x) {
  int32_t sumi = 0;
  for (int i = 0; i < quant::kSuperBlock; ++i) {
    const int h = i / 128, c = (i % 128) / 32, l = i % 32;
    const int v = ((w.qs[32 * h + l] >> (2 * c)) & 3) | (((w.hmask[l] >> (4 * h + c)) & 1) << 2);
    sumi += quant::ScaleQ3K(w.scales, i / 16) * v * x.qs[i];
  }
  int32_t offset = 0;
  for (int j = 0; j < 16; ++j) offset += quant::ScaleQ3K(w.scales, j) * x.bsums[j];
  return x.d * F16ToF32(w.d) * static_cast<float>(sumi - 4 * offset);
}

float DotQ2K(const quant::BlockQ2_K& w, const BlockQ8_K& x) {
  int32_t sumi = 0, summ = 0;
  for (int i = 0; i < quant::kSuperBlock; ++i) {
    const int h = i / 128, c = (i % 128) / 32, l = i % 32;
    sumi += (w.scales[i / 16] & 15) * ((w.qs[32 * h + l] >> (2 * c)) & 3) * x.qs[i];
  }
  for (int j = 0; j < 16; ++j) summ += (w.scales[j] >> 4) * x.bsums[j];
  return x.d * F16ToF32(w.d) * static_cast<float>(sumi) - x.d * F16ToF32(w.dmin) * static_cast<float>(summ);
}

// Eight IQ4_NL blocks against one Q8_K block (the "super-block" of this type's rows).
struct Iq4nlGroup {
  quant::BlockIQ4_NL b[8];
};
static_assert(sizeof(Iq4nlGroup) == 144, "eight IQ4_NL blocks");
float DotIQ4NL(const Iq4nlGroup& w, const BlockQ8_K& x) {
  float acc = 0;
  for (int g = 0; g < 8; ++g) {
    int32_t s = 0;
    for (int l = 0; l < 16; ++l) {
      s += quant::kIq4nlValues[w.b[g].qs[l] & 15] * x.qs[32 * g + l] + quant::kIq4nlValues[w.b[g].qs[l] >> 4] * x.qs[32 * g + 16 + l];
    }
    acc += x.d * F16ToF32(w.b[g].d) * static_cast<float>(s);
  }
  return acc;
}

// IQ4_XS: each 32's integer sum times its 6-bit scale (minus 32) stays exact in int32; one
// d_x * d_w per super-block.
float DotIQ4XS(const quant::BlockIQ4_XS& w, const BlockQ8_K& x) {
  int32_t sumi = 0;
  for (int j = 0; j < 8; ++j) {
    int32_t s = 0;
    for (int l = 0; l < 16; ++l) {
      s += quant::kIq4nlValues[w.qs[16 * j + l] & 15] * x.qs[32 * j + l] + quant::kIq4nlValues[w.qs[16 * j + l] >> 4] * x.qs[32 * j + 16 + l];
    }
    sumi += quant::ScaleIQ4XS(w, j) * s;
  }
  return x.d * F16ToF32(w.d) * static_cast<float>(sumi);
}

template <typename Block, float (*Dot)(const Block&, const BlockQ8_K&)>
void GemmGeneric(const uint8_t* w, size_t row_bytes, int64_t j0, int64_t j1, const BlockQ8_K* x, int64_t m, int64_t nb,
                 float* y, int64_t ldy) {
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t j = j0; j < j1; ++j) {
      const auto* row = reinterpret_cast<const Block*>(w + j * row_bytes);
      float acc = 0;
      for (int64_t b = 0; b < nb; ++b) acc += Dot(row[b], x[r * nb + b]);
      y[r * ldy + j] = acc;
    }
  }
}

struct PackedK {
  Tensor w;  // [n, k] in its K-quant dtype
};

}  // namespace

const KQuantKernels& KQuantKernelsGeneric() {
  static const KQuantKernels k{"generic", GemmGeneric<BlockQ4_K, DotQ4K>, GemmGeneric<BlockQ5_K, DotQ5K>,
                               GemmGeneric<BlockQ6_K, DotQ6K>,
                               GemmGeneric<quant::BlockQ3_K, DotQ3K>, GemmGeneric<quant::BlockQ2_K, DotQ2K>,
                               GemmGeneric<Iq4nlGroup, DotIQ4NL>, GemmGeneric<quant::BlockIQ4_XS, DotIQ4XS>};
  return k;
}

const KQuantKernels& GetKQuantKernels() {
  static const KQuantKernels& k = []() -> const KQuantKernels& {
    const CpuFeatures& f = GetCpuFeatures();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni) return KQuantKernelsAvx512Vnni();
    if (f.avx2 && f.fma && f.f16c) return KQuantKernelsAvx2();
    return KQuantKernelsGeneric();
  }();
  return k;
}

Result<PackedLinear> PackKQuantLinear(const Tensor& w) {
  if (w.rank() != 2 || !quant::IsKQuant(w.dtype()) || w.dim(1) % quant::kSuperBlock != 0) {
    return InvalidArgument("K-quant linear weight must be 2-D " + std::string(Name(w.dtype())) + " with rows of whole 256-blocks, got " +
                           ShapeToString(w.shape()));
  }
  auto p = std::make_shared<PackedK>();
  p->w = w;
  PackedLinear out;
  out.out_features = w.dim(0);
  out.in_features = w.dim(1);
  out.compute = w.dtype();
  out.data = std::move(p);
  return out;
}

Status KQuantLinear(ThreadPool& pool, const Tensor& x, const PackedLinear& pw, const Tensor* bias, Activation act, Tensor& y) {
  if (x.dtype() != DType::kF32 || x.dim(-1) != pw.in_features || !x.contiguous() || !y.contiguous()) {
    return InvalidArgument("K-quant Linear input " + ShapeToString(x.shape()) + " (f32, dense rows)");
  }
  const Tensor& w = static_cast<const PackedK*>(pw.data.get())->w;
  const int64_t k = pw.in_features, n = pw.out_features, m = static_cast<int64_t>(x.numel()) / k, nb = k / quant::kSuperBlock;
  if (static_cast<int64_t>(y.numel()) != m * n) return InvalidArgument("K-quant Linear output shape " + ShapeToString(y.shape()));
  if (bias && static_cast<int64_t>(bias->numel()) != n) return InvalidArgument("K-quant Linear bias size");
  thread_local std::vector<quant::BlockQ8_K> xq;
  xq.resize(static_cast<size_t>(m * nb));
  quant::BlockQ8_K* q = xq.data();  // this thread's buffer, shared with the tasks by address
  const float* xp = x.data<float>();
  pool.ParallelFor(m, 8, [&](int64_t r0, int64_t r1) { quant::QuantizeQ8_K(xp + r0 * k, static_cast<size_t>((r1 - r0) * k), q + r0 * nb); });
  const KQuantGemmFn gemm = GetKQuantKernels().For(w.dtype());
  const auto* wp = static_cast<const uint8_t*>(w.raw());
  const size_t row_bytes = *BytesFor(w.dtype(), static_cast<size_t>(k));
  float* yp = y.data<float>();
  static const EpilogueFn epilogue = std::string_view(GemmIsa()) == "avx512" ? EpilogueAvx512 : EpilogueGeneric;
  // Work in units of 16 output rows: a unit is 2.3-3.4 KiB per 256 of k, enough to amortise a
  // call and small enough to balance two threads on the 256-row k/v projections.
  constexpr int64_t kUnit = 16;
  const int64_t units = (n + kUnit - 1) / kUnit;
  const std::function<void(int64_t, int64_t)> run = [&](int64_t u0, int64_t u1) {
    const int64_t c0 = u0 * kUnit, c1 = std::min(n, u1 * kUnit);
    gemm(wp, row_bytes, c0, c1, q, m, nb, yp, n);
    if (bias || act != Activation::kNone) epilogue(yp + c0, n, m, c1 - c0, bias ? bias->data<float>() + c0 : nullptr, act);
  };
  if (m <= kGemvMaxRows) {
    // Decode streams the weight once: the f32/bf16 decode path's split (gemv.h).
    StreamShares(pool, units, std::max<int64_t>(1, (int64_t{64} << 10) / static_cast<int64_t>(kUnit * row_bytes)), run);
    return Status::Ok();
  }
  // Prefill: several runs per thread so the threads stay balanced; the kernels reuse each
  // stretch of weight rows for all activation rows while it is in L1/L2.
  const int64_t runs = std::min<int64_t>(units, 8 * pool.num_threads());
  const int64_t per = (units + runs - 1) / runs;
  pool.Run(runs, [&](int64_t t) {
    const int64_t u0 = t * per, u1 = std::min(units, u0 + per);
    if (u0 < u1) run(u0, u1);
  });
  return Status::Ok();
}

}  // namespace accel::cpu
