#pragma once
// Dot products of one quantized weight row with f32 activations, dequantizing on the fly
// (quant_dot_avx512.cpp, quant_dot_generic.cpp), chosen once at run time.
#include <cstdint>

#include "formats/quant.h"

namespace accel::cpu {

// out[r] = dot(w row, x + r * ldx) for r < rows: several activation rows share one pass over
// the weight row, so prefill reads each weight block once per row group.
using QuantRowDotFn = void (*)(const void* w_row, int64_t blocks, const float* x, int64_t ldx, int64_t rows, float* out,
                               int64_t ldo);

struct QuantDotKernels {
  QuantRowDotFn q8_0, q4_0;
};

const QuantDotKernels& QuantDotGeneric();
const QuantDotKernels& QuantDotAvx512();

}  // namespace accel::cpu
