#pragma once
// f32 GEMM on weights packed once at load: C[M, N] = A[M, K] * W^T (+ bias, activation),
// with W given in nn.Linear's [N, K] layout. W is repacked into column panels of `nr`
// columns, K-major ([panel][k][nr]), so the micro-kernel streams one contiguous panel while
// broadcasting A: the layout every register-blocked SIMD GEMM wants, done once per model.
#include <cstdint>
#include <memory>

#include "core/aligned.h"
#include "core/tensor.h"
#include "graph/backend.h"

namespace accel {
class ThreadPool;
}

namespace accel::cpu {

struct PackedF32 {
  int64_t n = 0, k = 0, nr = 0;
  std::shared_ptr<AlignedBuffer> buffer;
  const float* panel(int64_t p) const { return static_cast<const float*>(buffer->data()) + p * k * nr; }
  int64_t num_panels() const { return (n + nr - 1) / nr; }
};

// Which kernel family this CPU runs ("avx512", "avx2", "generic"); decided once.
const char* GemmIsa();
// Panel width the chosen kernels expect.
int GemmPanelWidth();

Result<std::shared_ptr<PackedF32>> PackF32(const Tensor& w);

void SgemmPacked(const float* a, int64_t m, int64_t lda, const PackedF32& b, float* c, int64_t ldc,
                 const float* bias, Activation act, ThreadPool& pool);

// Per-ISA pieces (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp). A "tile" is `rows` rows
// of A, already packed by PackA into micro-panels of `mr` rows ([block][k][mr], zero-padded), against one
// B panel restricted to k in [0, kc): the C tile (rows x cols, cols <= nr) is overwritten or,
// with accumulate, added to.
using TileFn = void (*)(const float* packed_a, const float* panel, int64_t kc, float* c, int64_t ldc,
                        int64_t rows, int64_t cols, bool accumulate);
// Applies bias (may be null) and activation to a rows x cols block of C.
using EpilogueFn = void (*)(float* c, int64_t ldc, int64_t rows, int64_t cols, const float* bias, Activation act);

void TileAvx512(const float*, const float*, int64_t, float*, int64_t, int64_t, int64_t, bool);
void EpilogueAvx512(float*, int64_t, int64_t, int64_t, const float*, Activation);
void TileAvx2(const float*, const float*, int64_t, float*, int64_t, int64_t, int64_t, bool);
void EpilogueAvx2(float*, int64_t, int64_t, int64_t, const float*, Activation);
void TileGeneric(const float*, const float*, int64_t, float*, int64_t, int64_t, int64_t, bool);
void EpilogueGeneric(float*, int64_t, int64_t, int64_t, const float*, Activation);

}  // namespace accel::cpu
