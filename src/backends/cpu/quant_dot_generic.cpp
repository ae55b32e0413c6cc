// Portable quantized dot products (the reference the AVX-512 ones are tested against).
#include "backends/cpu/quant_dot.h"
#include "core/half.h"

namespace accel::cpu {

namespace {
void RowsQ8_0(const void* w_row, int64_t blocks, const float* x, int64_t ldx, int64_t rows, float* out, int64_t ldo) {
  const auto* w = static_cast<const quant::BlockQ8_0*>(w_row);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float acc = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
      float s = 0.0f;
      for (int i = 0; i < quant::kBlock; ++i) s += static_cast<float>(w[b].qs[i]) * xr[b * quant::kBlock + i];
      acc += F16ToF32(w[b].d) * s;
    }
    out[r * ldo] = acc;
  }
}

void RowsQ4_0(const void* w_row, int64_t blocks, const float* x, int64_t ldx, int64_t rows, float* out, int64_t ldo) {
  const auto* w = static_cast<const quant::BlockQ4_0*>(w_row);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float acc = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
      float s = 0.0f;
      const float* xb = xr + b * quant::kBlock;
      for (int j = 0; j < quant::kBlock / 2; ++j) {
        s += static_cast<float>((w[b].qs[j] & 0x0F) - 8) * xb[j] + static_cast<float>((w[b].qs[j] >> 4) - 8) * xb[j + 16];
      }
      acc += F16ToF32(w[b].d) * s;
    }
    out[r * ldo] = acc;
  }
}
}  // namespace

const QuantDotKernels& QuantDotGeneric() {
  static const QuantDotKernels k{RowsQ8_0, RowsQ4_0};
  return k;
}

}  // namespace accel::cpu
