#pragma once
// Q8_0 / Q4_0 weights as the Vulkan quantized Linear reads them: GGUF's blocks are 34 and 18
// bytes (a 16-bit scale before the quants), so no 32-bit word lines up with a block. At load they
// are split into quant words in element order (Q8_0: 4 int8 per word; Q4_0: 8 nibbles per word,
// low nibble first) and one f32 scale per 32 weights, both word-aligned.
#include <cstdint>

#include "core/status.h"
#include "core/tensor.h"

namespace accel::vulkan {

struct QuantWords {
  Tensor words;   // kI32 [N * K / 4] (Q8_0) or [N * K / 8] (Q4_0), raw bits
  Tensor scales;  // f32 [N * K / 32]
  uint32_t format = 0;  // the shader's: 0 Q8_0, 1 Q4_0
};

// `w`: a contiguous host kQ8_0 or kQ4_0 tensor [N, K], K a multiple of 32.
Result<QuantWords> SplitQuantBlocks(const Tensor& w);

}  // namespace accel::vulkan
