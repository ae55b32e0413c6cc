// Portable panel decoding: one block at a time through the reference dequantizers, scattered
// into the panel's columns.
#include <cstring>

#include "backends/cpu/quant_panel.h"
#include "formats/quant.h"

namespace accel::cpu {

namespace {

template <typename Block, void (*Dequantize)(const Block*, size_t, float*)>
void DecodePanel(const uint8_t* rows, size_t row_bytes, int64_t cols, int64_t k0, int64_t kc, float* out, int64_t nr) {
  std::memset(out, 0, sizeof(float) * static_cast<size_t>(kc * nr));
  float values[quant::kBlock];
  for (int64_t j = 0; j < cols; ++j) {
    const Block* blocks = reinterpret_cast<const Block*>(rows + j * row_bytes) + k0 / quant::kBlock;
    for (int64_t b = 0; b < kc / quant::kBlock; ++b) {
      Dequantize(blocks + b, quant::kBlock, values);
      for (int i = 0; i < quant::kBlock; ++i) out[(b * quant::kBlock + i) * nr + j] = values[i];
    }
  }
}

}  // namespace

const QuantPanelKernels& QuantPanelGeneric() {
  static const QuantPanelKernels k{DecodePanel<quant::BlockQ8_0, quant::DequantizeQ8_0>,
                                   DecodePanel<quant::BlockQ4_0, quant::DequantizeQ4_0>};
  return k;
}

}  // namespace accel::cpu
