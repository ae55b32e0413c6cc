#pragma once
// Decoding block-quantized weight rows (Q8_0, Q4_0: consecutive rows of GGUF blocks, one row per
// output feature) into the f32 panel layout of the packed GEMM, out[k][nr], for prefill
// (GemmDequantized in gemm.h). Columns past `cols` are written as zero. k0 and kc are multiples
// of the 32-weight block (kc may end at K).
#include <cstddef>
#include <cstdint>

namespace accel::cpu {

using DequantizePanelRowsFn = void (*)(const uint8_t* rows, size_t row_bytes, int64_t cols, int64_t k0, int64_t kc,
                                       float* out, int64_t nr);

struct QuantPanelKernels {
  DequantizePanelRowsFn q8_0, q4_0;
};

const QuantPanelKernels& QuantPanelGeneric();
const QuantPanelKernels& QuantPanelAvx512();

}  // namespace accel::cpu
