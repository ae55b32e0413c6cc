#pragma once
// GEMM on weights packed once at load: C[M, N] = A[M, K] * W^T (+ bias, activation), W given
// in nn.Linear's [N, K] layout and A, C in f32. W is repacked into column panels of `nr`
// columns, K-major, so the micro-kernel streams one contiguous panel while broadcasting A:
// the layout every register-blocked SIMD GEMM wants, done once per model. The weight's dtype
// picks the arithmetic: f32 (FMA) or bf16 (pairs of K multiplied by AVX512-BF16 dot products,
// accumulated in f32). f16 and bf16 weights under f32 compute keep their 16 bits in the panel
// ("f16w", "bf16w": half the bytes to stream at decode) and are widened to f32 exactly, a panel
// slice at a time, for the f32 tile (gemm_halfw_avx512.cpp).
//
// Panel layout: f32 [k][nr]; bf16 [k/2][nr][2] (K padded to even with zeros); f16w and bf16w
// [k][nr] of 16-bit values.
#include <cstdint>
#include <memory>

#include "core/aligned.h"
#include "core/tensor.h"
#include "graph/backend.h"

namespace accel {
class ThreadPool;
}

namespace accel::cpu {

// Copies rows x kc of A (f32, row stride lda) into the micro-panel layout a tile expects.
using PackAFn = void (*)(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out);
// `rows` rows of packed A against one B panel restricted to k in [0, kc): the C tile
// (rows x cols, cols <= nr) is overwritten or, with accumulate, added to. The tile may also
// prefetch `prefetch_bytes` from `prefetch` (the weight slice the driver uses next), spread
// over its work; kernels without prefetching ignore it.
using TileFn = void (*)(const void* packed_a, const void* panel, int64_t kc, float* c, int64_t ldc, int64_t rows,
                        int64_t cols, bool accumulate, const void* prefetch, int64_t prefetch_bytes);
// Applies bias (may be null) and activation to a rows x cols block of C.
using EpilogueFn = void (*)(float* c, int64_t ldc, int64_t rows, int64_t cols, const float* bias, Activation act);
// Converts kc x nr values of a 16-bit panel (from element k0 on) to the f32 panel the tile reads,
// in a buffer of the calling thread that stays valid until its next call.
using WidenPanelFn = const float* (*)(const void* panel, int64_t kc, int64_t nr);

struct GemmKernel {
  const char* name;   // "avx512-f32", "avx512-bf16", "avx512-f16w", "avx512-bf16w", "avx2-f32", ...
  DType dtype;        // element type of the packed weight
  int nr, mr;
  int k_group;        // K elements combined per step (2 for bf16 pairs)
  PackAFn pack_a;
  TileFn tile;
  EpilogueFn epilogue;
  // Set for 16-bit storage under f32 arithmetic: the driver widens each panel slice once and
  // hands the f32 copy to `tile`, which is then the f32 kernel's, to run over all rows of A.
  WidenPanelFn widen = nullptr;
};

struct PackedGemmWeight {
  int64_t n = 0, k = 0;
  const GemmKernel* kernel = nullptr;
  std::shared_ptr<AlignedBuffer> buffer;
  int64_t k_padded() const { return (k + kernel->k_group - 1) / kernel->k_group * kernel->k_group; }
  size_t elem_bytes() const { return Info(kernel->dtype).block_bytes; }
  int64_t num_panels() const { return (n + kernel->nr - 1) / kernel->nr; }
  // Panel p from element k0 on (k0 a multiple of k_group).
  const void* panel(int64_t p, int64_t k0) const {
    return static_cast<const char*>(buffer->data()) + (p * k_padded() + k0) * kernel->nr * elem_bytes();
  }
};

// The best kernel this CPU has for `compute` (f32 or bf16), or null when it has none.
const GemmKernel* FindGemmKernel(DType compute);
// The kernel that keeps `weight` (f16 or bf16) in 16 bits and computes in f32, with results
// identical to the f32 kernel on the weight converted to f32; null when this CPU has none.
const GemmKernel* FindHalfStorageKernel(DType weight);
// Name of the f32 kernel family ("avx512", "avx2", "generic").
const char* GemmIsa();

Result<std::shared_ptr<PackedGemmWeight>> PackWeight(const Tensor& w, DType compute);
// Packs w for this kernel: a widening kernel keeps w's 16-bit values (w must have its dtype);
// any other converts w to f32 and then to the kernel's dtype. PackWeight picks the kernel;
// tests call this directly to run the conversion path a CPU without AVX-512 takes.
Result<std::shared_ptr<PackedGemmWeight>> PackWeightFor(const Tensor& w, const GemmKernel& kernel);

void GemmPacked(const float* a, int64_t m, int64_t lda, const PackedGemmWeight& b, float* c, int64_t ldc,
                const float* bias, Activation act, ThreadPool& pool);

// Spreads `bytes` of prefetch from `prefetch` over `calls` consecutive calls in whole cache
// lines, in order, call c taking lines [L c / calls, L (c + 1) / calls) of the L lines, so that
// no call stalls on a burst of prefetches. The GEMM driver spreads the next weight slice over
// its tile calls with it, and each tile its share over its micro-kernel calls.
class PrefetchSpread {
 public:
  PrefetchSpread(const void* prefetch, int64_t bytes, int64_t calls)
      : base_(static_cast<const char*>(prefetch)), lines_(prefetch ? bytes / 64 : 0), calls_(calls) {}
  // What the current call prefetches: lines() lines from at(); advance() moves to the next call.
  const char* at() const { return lines_ ? base_ + 64 * first(call_) : nullptr; }
  int64_t lines() const { return first(call_ + 1) - first(call_); }
  void advance() { ++call_; }

 private:
  int64_t first(int64_t call) const { return call >= calls_ ? lines_ : lines_ * call / calls_; }
  const char* base_;
  int64_t lines_, calls_, call_ = 0;
};

// Per-ISA kernels (gemm_avx512.cpp, gemm_bf16_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp).
const GemmKernel& GemmKernelAvx512F32();
const GemmKernel& GemmKernelAvx512Bf16();
const GemmKernel& GemmKernelAvx2F32();
const GemmKernel& GemmKernelGenericF32();
// 16-bit storage, f32 arithmetic (gemm_halfw_avx512.cpp): `weight` is kF16 or kBF16.
const GemmKernel& GemmKernelAvx512HalfW(DType weight);
void EpilogueAvx512(float*, int64_t, int64_t, int64_t, const float*, Activation);
void EpilogueGeneric(float*, int64_t, int64_t, int64_t, const float*, Activation);
// Packs f32 rows into [row block][k][mr] (shared by the f32 kernels).
void PackAF32(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out);

}  // namespace accel::cpu
