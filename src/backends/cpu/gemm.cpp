#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::cpu {

namespace {

struct GemmKernels {
  const char* isa;
  int nr;
  TileFn tile;
  EpilogueFn epilogue;
};

const GemmKernels& Kernels() {
  static const GemmKernels k = [] {
    const CpuFeatures& f = GetCpuFeatures();
    if (f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) return GemmKernels{"avx512", 32, TileAvx512, EpilogueAvx512};
    if (f.avx2 && f.fma) return GemmKernels{"avx2", 16, TileAvx2, EpilogueAvx2};
    return GemmKernels{"generic", 16, TileGeneric, EpilogueGeneric};
  }();
  return k;
}

// K is processed in blocks so one panel slice (kKc x nr floats, 32 KiB at nr = 32) stays in
// L1 while every row block of A streams past it.
constexpr int64_t kKc = 256;
// Rows of A per task: enough tasks to balance two or more threads, few enough that each
// task's slice of A (kMc x kKc) stays in L2.
constexpr int64_t kMc = 192;

}  // namespace

const char* GemmIsa() { return Kernels().isa; }
int GemmPanelWidth() { return Kernels().nr; }

Result<std::shared_ptr<PackedF32>> PackF32(const Tensor& w) {
  if (w.rank() != 2) return InvalidArgument("linear weight must be 2-D, got " + ShapeToString(w.shape()));
  Tensor wf;
  if (w.dtype() == DType::kF32) {
    wf = w;
  } else {
    ACCEL_ASSIGN_OR_RETURN(wf, w.ToF32());
  }
  auto packed = std::make_shared<PackedF32>();
  packed->n = w.dim(0);
  packed->k = w.dim(1);
  packed->nr = Kernels().nr;
  int64_t panels = packed->num_panels();
  size_t bytes = static_cast<size_t>(panels * packed->k * packed->nr) * sizeof(float);
  packed->buffer = AlignedBuffer::Allocate(bytes);
  if (!packed->buffer) return OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for a packed weight");
  float* dst = static_cast<float*>(packed->buffer->data());
  const float* src = wf.data<float>();
  const int64_t n = packed->n, k = packed->k, nr = packed->nr;
  ThreadPool::Global().ParallelFor(panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = dst + p * k * nr;
      for (int64_t kk = 0; kk < k; ++kk) {
        for (int64_t j = 0; j < nr; ++j) {
          int64_t col = p * nr + j;
          out[kk * nr + j] = col < n ? src[col * k + kk] : 0.0f;
        }
      }
    }
  });
  return packed;
}

void SgemmPacked(const float* a, int64_t m, int64_t lda, const PackedF32& b, float* c, int64_t ldc,
                 const float* bias, Activation act, ThreadPool& pool) {
  const GemmKernels& kern = Kernels();
  const int64_t panels = b.num_panels();
  const int64_t k = b.k, n = b.n, nr = b.nr;
  const int64_t m_chunks = (m + kMc - 1) / kMc;
  pool.Run(panels * m_chunks, [&](int64_t task) {
    const int64_t p = task % panels;
    const int64_t mc = task / panels;
    const int64_t row0 = mc * kMc;
    const int64_t rows = std::min(kMc, m - row0);
    const int64_t col0 = p * nr;
    const int64_t cols = std::min(nr, n - col0);
    const float* panel = b.panel(p);
    float* ctile = c + row0 * ldc + col0;
    if (k == 0) {
      for (int64_t r = 0; r < rows; ++r) std::memset(ctile + r * ldc, 0, sizeof(float) * cols);
    }
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = std::min(kKc, k - k0);
      kern.tile(a + row0 * lda + k0, lda, panel + k0 * nr, kc, ctile, ldc, rows, cols, k0 > 0);
    }
    if (bias || act != Activation::kNone) kern.epilogue(ctile, ldc, rows, cols, bias ? bias + col0 : nullptr, act);
  });
}

}  // namespace accel::cpu
