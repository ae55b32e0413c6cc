#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"

namespace accel::cpu {

namespace {

// K is processed in blocks so one panel slice (kKc x nr values, 48 KiB of f32 at nr = 48)
// stays in L1 while the packed row blocks of A stream past it from L2.
constexpr int64_t kKc = 256;
// Rows of A per chunk: at most kMcMax, so that a packed slice (rows x kKc) stays in L2, and
// split evenly: 197 rows (ViT) as one chunk rather than 192 + 5, whose 5-row chunk would
// stream every weight slice a second time for almost no work.
constexpr int64_t kMcMax = 256;

bool HasAvx512() {
  const CpuFeatures& f = GetCpuFeatures();
  return f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl;
}

const GemmKernel& F32Kernel() {
  static const GemmKernel& k = HasAvx512()                                        ? GemmKernelAvx512F32()
                               : (GetCpuFeatures().avx2 && GetCpuFeatures().fma) ? GemmKernelAvx2F32()
                                                                                 : GemmKernelGenericF32();
  return k;
}

}  // namespace

// Packed, the micro-kernel reads A as one contiguous stream: unpacked rows whose stride is a
// multiple of 4 KiB (K = 1024, 3072) all land in the same L1 set and evict each other.
void PackAF32(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out_v) {
  float* out = static_cast<float*>(out_v);
  for (int64_t r0 = 0; r0 < rows; r0 += mr) {
    const int64_t n = std::min(mr, rows - r0);
    for (int64_t k = 0; k < kc; ++k) {
      float* dst = out + (r0 * kc) + k * mr;
      for (int64_t i = 0; i < n; ++i) dst[i] = a[(r0 + i) * lda + k];
      for (int64_t i = n; i < mr; ++i) dst[i] = 0.0f;
    }
  }
}

const GemmKernel* FindGemmKernel(DType compute) {
  if (compute == DType::kF32) return &F32Kernel();
  if (compute == DType::kBF16 && HasAvx512() && GetCpuFeatures().avx512_bf16) return &GemmKernelAvx512Bf16();
  return nullptr;
}

const GemmKernel* FindHalfStorageKernel(DType weight) {
  if (weight != DType::kF16 && weight != DType::kBF16) return nullptr;
  if (&F32Kernel() != &GemmKernelAvx512F32()) return nullptr;  // implies AVX-512 F/BW/DQ/VL
  if (weight == DType::kF16 && !GetCpuFeatures().f16c) return nullptr;
  return &GemmKernelAvx512HalfW(weight);
}

const char* GemmIsa() {
  const GemmKernel& k = F32Kernel();
  return &k == &GemmKernelAvx512F32() ? "avx512" : &k == &GemmKernelAvx2F32() ? "avx2" : "generic";
}

namespace {

// 16-bit values copied as they are into [k][nr] panels (zero padding is 0x0000 in f16 and bf16).
void PackHalfRaw(const uint16_t* src, PackedGemmWeight& packed) {
  const int64_t n = packed.n, k = packed.k, kp = packed.k_padded(), nr = packed.kernel->nr;
  uint16_t* dst = static_cast<uint16_t*>(packed.buffer->data());
  ThreadPool::Global().ParallelFor(packed.num_panels(), 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      uint16_t* panel = dst + p * kp * nr;
      std::memset(panel, 0, sizeof(uint16_t) * kp * nr);
      for (int64_t j = 0; j < nr && p * nr + j < n; ++j) {
        const uint16_t* row = src + (p * nr + j) * k;
        for (int64_t kk = 0; kk < k; ++kk) panel[kk * nr + j] = row[kk];
      }
    }
  });
}

}  // namespace

Result<std::shared_ptr<PackedGemmWeight>> PackWeight(const Tensor& w, DType compute) {
  const GemmKernel* kernel = FindGemmKernel(compute);
  if (!kernel) return Unsupported("this CPU has no " + std::string(Name(compute)) + " GEMM kernel");
  // f16 / bf16 weights under f32 arithmetic stay 16-bit where a kernel can widen them exactly;
  // elsewhere (no AVX-512, or no F16C for f16) they are converted to f32 below.
  if (compute == DType::kF32) {
    if (const GemmKernel* half = FindHalfStorageKernel(w.dtype())) kernel = half;
  }
  return PackWeightFor(w, *kernel);
}

Result<std::shared_ptr<PackedGemmWeight>> PackWeightFor(const Tensor& w, const GemmKernel& kernel) {
  if (w.rank() != 2) return InvalidArgument("linear weight must be 2-D, got " + ShapeToString(w.shape()));
  auto packed = std::make_shared<PackedGemmWeight>();
  packed->n = w.dim(0);
  packed->k = w.dim(1);
  packed->kernel = &kernel;
  const int64_t n = packed->n, k = packed->k, kp = packed->k_padded(), nr = kernel.nr, g = kernel.k_group;
  const int64_t panels = packed->num_panels();
  const size_t bytes = static_cast<size_t>(panels * kp * nr) * packed->elem_bytes();
  if (kernel.widen) {
    if (w.dtype() != kernel.dtype || g != 1) {
      return InvalidArgument("kernel " + std::string(kernel.name) + " cannot hold a " + std::string(Name(w.dtype())) +
                             " weight");
    }
    packed->buffer = AlignedBuffer::Allocate(bytes);
    if (!packed->buffer) return OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for a packed weight");
    PackHalfRaw(static_cast<const uint16_t*>(w.raw()), *packed);
    return packed;
  }
  Tensor wf;
  if (w.dtype() == DType::kF32) {
    wf = w;
  } else {
    ACCEL_ASSIGN_OR_RETURN(wf, w.ToF32());
  }
  packed->buffer = AlignedBuffer::Allocate(bytes);
  if (!packed->buffer) return OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for a packed weight");
  const float* src = wf.data<float>();
  ThreadPool::Global().ParallelFor(panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t kk = 0; kk < kp; ++kk) {
        for (int64_t j = 0; j < nr; ++j) {
          const int64_t col = p * nr + j;
          const float v = col < n && kk < k ? src[col * k + kk] : 0.0f;
          // element (kk, j) of the panel: groups of g consecutive k per column
          const int64_t idx = p * kp * nr + (kk / g) * nr * g + j * g + kk % g;
          if (kernel.dtype == DType::kF32) static_cast<float*>(packed->buffer->data())[idx] = v;
          else static_cast<uint16_t*>(packed->buffer->data())[idx] = F32ToBf16(v);
        }
      }
    }
  });
  return packed;
}

namespace {

// A packed once per GEMM, every m chunk x k block, in parallel, before any panel needs it.
struct PackedActivations {
  const char* data;
  size_t slot_bytes;
  int64_t m_chunks, k_blocks;
  int64_t chunk_rows;
  const char* block(int64_t mc, int64_t kb) const { return data + slot_bytes * (mc * k_blocks + kb); }
};

PackedActivations PackActivations(const GemmKernel& kern, const float* a, int64_t m, int64_t lda, int64_t k,
                                  ThreadPool& pool) {
  const int64_t m_chunks = std::max<int64_t>(1, (m + kMcMax - 1) / kMcMax), k_blocks = (k + kKc - 1) / kKc;
  const int64_t chunk_rows = ((m + m_chunks - 1) / m_chunks + kern.mr - 1) / kern.mr * kern.mr;
  const size_t slot = static_cast<size_t>((chunk_rows + kern.mr) * (kKc + 1));  // floats; bf16 pairs need half
  thread_local std::vector<float> packed_a;
  if (packed_a.size() < slot * m_chunks * k_blocks) packed_a.resize(slot * m_chunks * k_blocks);
  float* packed = packed_a.data();
  pool.Run(m_chunks * k_blocks, [&](int64_t t) {
    const int64_t mc = t / k_blocks, kb = t % k_blocks;
    const int64_t row0 = mc * chunk_rows, k0 = kb * kKc;
    kern.pack_a(a + row0 * lda + k0, lda, std::min(chunk_rows, m - row0), std::min(kKc, k - k0), kern.mr, packed + slot * t);
  });
  return {reinterpret_cast<const char*>(packed), slot * sizeof(float), m_chunks, k_blocks, chunk_rows};
}

// One k block of one panel against `rows` rows of packed A. Rows go to the tile in slices of a
// few micro-tiles so that the epilogue (after the last k block) finds each slice still in L1;
// each call also gets a share of `next` (the weight slice used after this one) to prefetch.
void PanelSlice(const GemmKernel& kern, const char* packed_a, int64_t rows, int64_t kc, const void* panel,
                int64_t cols, float* c, int64_t ldc, bool accumulate, bool last_k, const float* bias, Activation act,
                const char* next, int64_t next_bytes) {
  const int64_t row_step = 4 * kern.mr;
  const int64_t calls = (rows + row_step - 1) / row_step;
  const int64_t a_row_bytes = (kc + kern.k_group - 1) / kern.k_group * 4;
  // 16-bit storage: widened to f32 once here, for all `rows` (gemm.h).
  const void* tile_panel =
      kern.widen ? kern.widen(panel, (kc + kern.k_group - 1) / kern.k_group * kern.k_group, kern.nr) : panel;
  PrefetchSpread pf(next, next_bytes, calls);
  for (int64_t call = 0; call < calls; ++call) {
    const int64_t r0 = call * row_step;
    float* tile_c = c + r0 * ldc;
    const int64_t tile_rows = std::min(row_step, rows - r0);
    kern.tile(packed_a + r0 * a_row_bytes, tile_panel, kc, tile_c, ldc, tile_rows, cols, accumulate, pf.at(),
              pf.lines() * 64);
    pf.advance();
    if (last_k && (bias || act != Activation::kNone)) kern.epilogue(tile_c, ldc, tile_rows, cols, bias, act);
  }
}

// A 64-byte aligned per-thread buffer of at least `floats`, kept between calls.
float* StageBuffer(int64_t floats) {
  thread_local std::vector<float> buffer;
  const size_t need = static_cast<size_t>(floats) + 16;
  if (buffer.size() < need) buffer.resize(need);
  const uintptr_t p = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t{63});
}

void ZeroK(const GemmKernel& kern, int64_t rows, int64_t cols, float* c, int64_t ldc, const float* bias, Activation act) {
  for (int64_t r = 0; r < rows; ++r) std::memset(c + r * ldc, 0, sizeof(float) * cols);
  kern.epilogue(c, ldc, rows, cols, bias, act);
}

}  // namespace

void GemmPacked(const float* a, int64_t m, int64_t lda, const PackedGemmWeight& b, float* c, int64_t ldc,
                const float* bias, Activation act, ThreadPool& pool) {
  const GemmKernel& kern = *b.kernel;
  const int64_t panels = b.num_panels();
  const int64_t k = b.k, n = b.n, nr = kern.nr;
  const PackedActivations pa = PackActivations(kern, a, m, lda, k, pool);
  const int64_t m_chunks = pa.m_chunks, k_blocks = pa.k_blocks;
  // Panels per task: at least ~4 tasks per thread for balance, as few as that allows so that
  // each packed slice of A is reused across many panels.
  const int64_t want_tasks = 4 * pool.num_threads();
  const int64_t group = std::max<int64_t>(1, std::min<int64_t>(8, panels * m_chunks / want_tasks));
  const int64_t groups = (panels + group - 1) / group;
  // With several k blocks, partial sums go to a per-thread buffer of rows x nr per panel: rows
  // of C itself are ldc apart, and at ldc = 8K or 16K floats a micro-tile's 8 rows share one L1
  // set with the weight slice the tile is reading. The last k block's tile (epilogue applied)
  // is copied out.
  const bool staged = k_blocks > 1;
  pool.Run(groups * m_chunks, [&](int64_t task) {
    const int64_t g = task % groups;
    const int64_t mc = task / groups;
    const int64_t row0 = mc * pa.chunk_rows;
    const int64_t rows = std::min(pa.chunk_rows, m - row0);
    const int64_t p0 = g * group, p1 = std::min(panels, p0 + group);
    float* stage = staged ? StageBuffer(rows * nr * (p1 - p0)) : nullptr;
    if (k == 0) {
      for (int64_t p = p0; p < p1; ++p)
        ZeroK(kern, rows, std::min(nr, n - p * nr), c + row0 * ldc + p * nr, ldc, bias ? bias + p * nr : nullptr, act);
    }
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const int64_t k0 = kb * kKc, kc = std::min(kKc, k - k0);
      for (int64_t p = p0; p < p1; ++p) {
        // The slice after this one: the next panel of the group, or the group's first at the next k block.
        const bool last_panel = p + 1 == p1;
        const char* next = nullptr;
        int64_t next_bytes = 0;
        if (!last_panel || kb + 1 < k_blocks) {
          const int64_t nk0 = last_panel ? k0 + kKc : k0;
          next = static_cast<const char*>(b.panel(last_panel ? p0 : p + 1, nk0));
          next_bytes = (std::min(kKc, k - nk0) + kern.k_group - 1) / kern.k_group * kern.k_group * nr *
                       static_cast<int64_t>(b.elem_bytes());
        }
        const int64_t cols = std::min(nr, n - p * nr);
        float* out = c + row0 * ldc + p * nr;
        float* tile = staged ? stage + (p - p0) * rows * nr : out;
        const int64_t ld = staged ? nr : ldc;
        PanelSlice(kern, pa.block(mc, kb), rows, kc, b.panel(p, k0), cols, tile, ld, k0 > 0, kb + 1 == k_blocks,
                   bias ? bias + p * nr : nullptr, act, next, next_bytes);
        if (staged && kb + 1 == k_blocks) {
          for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * ldc, tile + r * nr, sizeof(float) * cols);
        }
      }
    }
  });
}

}  // namespace accel::cpu
