#pragma once
// Block quantization formats shared with GGUF (bit layouts as llama.cpp's ggml defines them):
//   Q8_0: 32 weights = fp16 scale d, then 32 x int8 q;        w = d * q
//   Q4_0: 32 weights = fp16 scale d, then 16 bytes; byte j holds weight j in its low nibble and
//         weight j + 16 in its high nibble;                   w = d * (nibble - 8)
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "formats/quant_search.h"

namespace accel::quant {

inline constexpr int kBlock = 32;
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kBlock];
};
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kBlock / 2];
};
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18, "GGUF block layouts");

// n must be a multiple of 32.
void QuantizeQ8_0(const float* x, size_t n, BlockQ8_0* out);
void QuantizeQ4_0(const float* x, size_t n, BlockQ4_0* out, const QuantParams& p = {});
void DequantizeQ8_0(const BlockQ8_0* b, size_t n, float* out);
void DequantizeQ4_0(const BlockQ4_0* b, size_t n, float* out);
// Dispatch on a block dtype (q8_0, q4_0, the K-quants, IQ4): n values (a multiple of its block)
// from f32 into `blocks`, and back. Q8_0 ignores p.
void QuantizeBlocks(DType dtype, const float* x, size_t n, void* blocks, const QuantParams& p = {});
void DequantizeBlocks(DType dtype, const void* blocks, size_t n, float* out);

// f32 copy of a float tensor of any dtype (f32/f16/bf16/f64/q8_0/q4_0/q4_k/q5_k/q6_k/q3_k/q2_k/
// iq4_nl/iq4_xs).
Result<Tensor> ToF32(const Tensor& t);
// Quantizes a float tensor whose last dimension is a multiple of the block (32; 256 for K-quants
// and IQ4_XS). p.importance, when set, holds one weight per column (dim(-1) floats), the same for
// every row, as an importance matrix gives it. Q8_0 is always rounded to nearest.
Result<Tensor> Quantize(const Tensor& t, DType to, const QuantParams& p = {});

// Projections fused into one Linear (q/k/v) must share a format; GGUF's _M mixes give attn_v
// more bits than attn_q/attn_k. Brings `parts` (all of one quantized dtype) and `next` to the
// one with more bits per weight, requantizing the others from their dequantized values (parts
// is rewritten in place), and returns `next` in that format. Fails for non-quantized dtypes.
Result<Tensor> FuseCompatible(std::vector<Tensor>& parts, const Tensor& next);

}  // namespace accel::quant
