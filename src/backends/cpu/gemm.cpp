#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::cpu {

namespace {

struct GemmKernels {
  const char* isa;
  int nr;
  int mr;
  TileFn tile;
  EpilogueFn epilogue;
};

const GemmKernels& Kernels() {
  static const GemmKernels k = [] {
    const CpuFeatures& f = GetCpuFeatures();
    if (f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) return GemmKernels{"avx512", 32, 12, TileAvx512, EpilogueAvx512};
    if (f.avx2 && f.fma) return GemmKernels{"avx2", 16, 6, TileAvx2, EpilogueAvx2};
    return GemmKernels{"generic", 16, 4, TileGeneric, EpilogueGeneric};
  }();
  return k;
}

// K is processed in blocks so one panel slice (kKc x nr floats, 24 KiB at nr = 32) stays in
// L1 while the packed row blocks of A stream past it from L2.
constexpr int64_t kKc = 192;
// Rows of A per task: few enough that the packed slice (kMc x kKc) stays in L2.
constexpr int64_t kMc = 192;

// Copies rows x kc of A into micro-panels of mr rows, k-major, zero-padding the last panel.
// Packed, the micro-kernel reads A as one contiguous stream: unpacked rows whose stride is a
// multiple of 4 KiB (K = 1024, 3072) all land in the same L1 set and evict each other.
void PackA(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, float* out) {
  for (int64_t r0 = 0; r0 < rows; r0 += mr) {
    const int64_t n = std::min(mr, rows - r0);
    for (int64_t k = 0; k < kc; ++k) {
      float* dst = out + (r0 * kc) + k * mr;
      for (int64_t i = 0; i < n; ++i) dst[i] = a[(r0 + i) * lda + k];
      for (int64_t i = n; i < mr; ++i) dst[i] = 0.0f;
    }
  }
}

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
  const int64_t k = b.k, n = b.n, nr = b.nr, mr = kern.mr;
  const int64_t m_chunks = (m + kMc - 1) / kMc;
  // Panels per task: at least ~4 tasks per thread for balance, as few as that allows so that
  // each packed slice of A is reused across many panels.
  const int64_t want_tasks = 4 * pool.num_threads();
  const int64_t group = std::max<int64_t>(1, std::min<int64_t>(8, panels * m_chunks / want_tasks));
  const int64_t groups = (panels + group - 1) / group;
  pool.Run(groups * m_chunks, [&](int64_t task) {
    const int64_t g = task % groups;
    const int64_t mc = task / groups;
    const int64_t row0 = mc * kMc;
    const int64_t rows = std::min(kMc, m - row0);
    const int64_t p0 = g * group, p1 = std::min(panels, p0 + group);
    thread_local std::vector<float> packed_a;
    packed_a.resize(static_cast<size_t>((kMc + mr) * kKc));
    if (k == 0) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t cols = std::min(nr, n - p * nr);
        for (int64_t r = 0; r < rows; ++r) std::memset(c + (row0 + r) * ldc + p * nr, 0, sizeof(float) * cols);
      }
    }
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = std::min(kKc, k - k0);
      PackA(a + row0 * lda + k0, lda, rows, kc, mr, packed_a.data());
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t cols = std::min(nr, n - p * nr);
        kern.tile(packed_a.data(), b.panel(p) + k0 * nr, kc, c + row0 * ldc + p * nr, ldc, rows, cols, k0 > 0);
      }
    }
    if (bias || act != Activation::kNone) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t cols = std::min(nr, n - p * nr);
        kern.epilogue(c + row0 * ldc + p * nr, ldc, rows, cols, bias ? bias + p * nr : nullptr, act);
      }
    }
  });
}

}  // namespace accel::cpu
