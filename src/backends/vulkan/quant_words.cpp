#include "backends/vulkan/quant_words.h"

#include <cstring>

#include "core/half.h"
#include "formats/quant.h"

namespace accel::vulkan {

Result<QuantWords> SplitQuantBlocks(const Tensor& w) {
  if (w.rank() != 2 || !w.on_host() || !w.contiguous()) return InvalidArgument("vulkan: quantized weights must be a contiguous host [N, K] tensor");
  const bool q4 = w.dtype() == DType::kQ4_0;
  if (!q4 && w.dtype() != DType::kQ8_0) return InvalidArgument("vulkan: only Q8_0 and Q4_0 blocks are split into words");
  if (w.dim(1) % quant::kBlock != 0) return InvalidArgument("vulkan: quantized weights need K a multiple of 32");
  const size_t blocks = static_cast<size_t>(w.dim(0)) * static_cast<size_t>(w.dim(1)) / quant::kBlock;
  const size_t words_per_block = q4 ? 4 : 8;
  QuantWords out;
  out.format = q4 ? 1 : 0;
  ACCEL_ASSIGN_OR_RETURN(out.words, Tensor::Zeros(DType::kI32, {static_cast<int64_t>(blocks * words_per_block)}));
  ACCEL_ASSIGN_OR_RETURN(out.scales, Tensor::Zeros(DType::kF32, {static_cast<int64_t>(blocks)}));
  auto* words = out.words.data<int32_t>();
  float* scales = out.scales.data<float>();
  for (size_t b = 0; b < blocks; ++b) {
    uint32_t* dst = reinterpret_cast<uint32_t*>(words + b * words_per_block);
    if (q4) {
      const auto& blk = static_cast<const quant::BlockQ4_0*>(w.raw())[b];
      scales[b] = F16ToF32(blk.d);
      for (int e = 0; e < quant::kBlock; ++e) {
        const uint32_t nibble = e < 16 ? blk.qs[e] & 15u : blk.qs[e - 16] >> 4;
        dst[e / 8] |= nibble << (4 * (e % 8));
      }
    } else {
      const auto& blk = static_cast<const quant::BlockQ8_0*>(w.raw())[b];
      scales[b] = F16ToF32(blk.d);
      std::memcpy(dst, blk.qs, sizeof blk.qs);  // little-endian: element e in bits 8e..8e+7
    }
  }
  return out;
}

}  // namespace accel::vulkan
