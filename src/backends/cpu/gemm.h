#pragma once
// GEMM on weights packed once at load: C[M, N] = A[M, K] * W^T (+ bias, activation), W given
// in nn.Linear's [N, K] layout and A, C in f32. W is repacked into column panels of `nr`
// columns, K-major, so the micro-kernel streams one contiguous panel while broadcasting A:
// the layout every register-blocked SIMD GEMM wants, done once per model. The weight's dtype
// picks the arithmetic: f32 (FMA) or bf16 (pairs of K multiplied by AVX512-BF16 dot products,
// accumulated in f32).
//
// Panel layout: f32 [k][nr]; bf16 [k/2][nr][2] (K padded to even with zeros).
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

struct GemmKernel {
  const char* name;   // "avx512-f32", "avx512-bf16", "avx2-f32", "generic-f32"
  DType dtype;        // element type of the packed weight
  int nr, mr;
  int k_group;        // K elements combined per step (2 for bf16 pairs)
  PackAFn pack_a;
  TileFn tile;
  EpilogueFn epilogue;
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
// Name of the f32 kernel family ("avx512", "avx2", "generic").
const char* GemmIsa();

Result<std::shared_ptr<PackedGemmWeight>> PackWeight(const Tensor& w, DType compute);

void GemmPacked(const float* a, int64_t m, int64_t lda, const PackedGemmWeight& b, float* c, int64_t ldc,
                const float* bias, Activation act, ThreadPool& pool);

// Per-ISA kernels (gemm_avx512.cpp, gemm_bf16_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp).
const GemmKernel& GemmKernelAvx512F32();
const GemmKernel& GemmKernelAvx512Bf16();
const GemmKernel& GemmKernelAvx2F32();
const GemmKernel& GemmKernelGenericF32();
void EpilogueAvx512(float*, int64_t, int64_t, int64_t, const float*, Activation);
void EpilogueGeneric(float*, int64_t, int64_t, int64_t, const float*, Activation);
// Packs f32 rows into [row block][k][mr] (shared by the f32 kernels).
void PackAF32(const float* a, int64_t lda, int64_t rows, int64_t kc, int64_t mr, void* out);

}  // namespace accel::cpu
