// Portable GEMM tile and epilogue: correct everywhere, the fallback when no SIMD kernel applies.
#include "backends/cpu/gemm.h"
#include "backends/cpu/scalar_math.h"

namespace accel::cpu {

namespace {
void Tile(const void* a_v, const void* panel_v, int64_t kc, float* c, int64_t ldc, int64_t rows, int64_t cols,
          bool accumulate, const void* /*prefetch*/, int64_t /*prefetch_bytes*/) {
  const float* a = static_cast<const float*>(a_v);
  const float* panel = static_cast<const float*>(panel_v);
  constexpr int64_t nr = 16, mr = 4;
  for (int64_t r = 0; r < rows; ++r) {
    float acc[nr] = {};
    const float* ablock = a + (r / mr) * mr * kc;
    for (int64_t k = 0; k < kc; ++k) {
      const float av = ablock[k * mr + r % mr];
      const float* bk = panel + k * nr;
      for (int64_t j = 0; j < nr; ++j) acc[j] += av * bk[j];
    }
    float* crow = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) crow[j] = accumulate ? crow[j] + acc[j] : acc[j];
  }
}

}  // namespace

const GemmKernel& GemmKernelGenericF32() {
  static const GemmKernel k{"generic-f32", DType::kF32, 16, 4, 1, PackAF32, Tile, EpilogueGeneric};
  return k;
}

void EpilogueGeneric(float* c, int64_t ldc, int64_t rows, int64_t cols, const float* bias, Activation act) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) row[j] = ActivateScalar(act, row[j] + (bias ? bias[j] : 0.0f));
  }
}

}  // namespace accel::cpu
