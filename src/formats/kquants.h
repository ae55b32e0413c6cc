#pragma once
// GGUF K-quants: super-blocks of 256 weights, bit for bit the layouts of llama.cpp's ggml
// (ggml-common.h), so files written by llama-quantize load as they are.
//
// Q4_K (144 bytes, 4.5 bits/weight): 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit
// min; w = d * sc[j] * q - dmin * m[j], q in 0..15.
//   d, dmin   fp16
//   scales[12] sub-block j < 4: sc = scales[j] & 63, m = scales[j + 4] & 63
//              j >= 4:          sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4
//                               m  = (scales[j + 4] >> 4) | (scales[j]     >> 6) << 4
//   qs[128]    chunk c (64 weights, c < 4) is qs[32c .. 32c + 32): byte l holds weight 64c + l in
//              its low nibble (sub-block 2c) and weight 64c + 32 + l in its high nibble (2c + 1)
// Q5_K (176 bytes, 5.5 bits/weight): Q4_K plus qh[32] between scales and qs: bit 2c of qh[l]
//   is bit 4 of weight 64c + l, bit 2c + 1 that of weight 64c + 32 + l; q in 0..31.
//   Order: d, dmin, scales[12], qh[32], qs[128].
// Q6_K (210 bytes, 6.5625 bits/weight): 16 sub-blocks of 16 with int8 scales;
//   w = d * sc[j] * (q - 32), q in 0..63.  Order: ql[128], qh[64], scales[16] (int8), d (fp16).
//   Half h (128 weights, h < 2) uses ql[64h..), qh[32h..), scales[8h..); for l < 32:
//     weight 128h + l      = ql[64h + l]      & 15 | ((qh[32h + l] >> 0) & 3) << 4
//     weight 128h + 32 + l = ql[64h + 32 + l] & 15 | ((qh[32h + l] >> 2) & 3) << 4
//     weight 128h + 64 + l = ql[64h + l]      >> 4 | ((qh[32h + l] >> 4) & 3) << 4
//     weight 128h + 96 + l = ql[64h + 32 + l] >> 4 | ((qh[32h + l] >> 6) & 3) << 4
//   and weight i's scale is scales[i / 16].
// Q8_K (activations only, never in a file here): 256 int8 with one f32 scale and the sums of
//   each 16, so the formats' offsets (mins, -32) cost one small dot per super-block.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/dtype.h"

namespace accel::quant {

inline constexpr int kSuperBlock = 256;

struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kSuperBlock];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210, "GGUF K-quant layouts");
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K layout");

inline bool IsKQuant(DType t) { return t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K; }

// Sub-block j's 6-bit scale and min of a Q4_K/Q5_K block.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63, *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Quant l (0..31) of sub-block j (0..7): sub-blocks 2c and 2c+1 share the 32 bytes qs[32c..],
// low and high nibbles; Q5_K's fifth bit of sub-block j is bit j of qh[l].
inline int QuantAt(const BlockQ4_K& b, int j, int l) {
  const uint8_t byte = b.qs[32 * (j / 2) + l];
  return j % 2 == 0 ? byte & 0xF : byte >> 4;
}
inline int QuantAt(const BlockQ5_K& b, int j, int l) {
  const uint8_t byte = b.qs[32 * (j / 2) + l];
  return (j % 2 == 0 ? byte & 0xF : byte >> 4) | (((b.qh[l] >> j) & 1) << 4);
}

// n is a multiple of 256. The quantizers search each sub-block's scale (and min) for the
// least squared error, as llama.cpp's k-quants do without an importance matrix, then round the
// sub-block scales to 6 (Q4_K/Q5_K) or 8 (Q6_K) bits and requantize under the rounded scales.
void QuantizeQ4_K(const float* x, size_t n, BlockQ4_K* out);
void QuantizeQ5_K(const float* x, size_t n, BlockQ5_K* out);
void QuantizeQ6_K(const float* x, size_t n, BlockQ6_K* out);
void DequantizeQ4_K(const BlockQ4_K* b, size_t n, float* out);
void DequantizeQ5_K(const BlockQ5_K* b, size_t n, float* out);
void DequantizeQ6_K(const BlockQ6_K* b, size_t n, float* out);
// Symmetric: d = max|x| / 127, q = round-to-nearest-even(x / d), bsums exact.
void QuantizeQ8_K(const float* x, size_t n, BlockQ8_K* out);

// Dispatch on dtype (K-quants only); raw points at n / 256 blocks.
void QuantizeK(DType t, const float* x, size_t n, void* raw);
void DequantizeK(DType t, const void* raw, size_t n, float* out);

// ggml's name of a ggml type id ("Q4_K", "IQ4_XS", ...), nullopt for ids ggml never assigned.
std::optional<std::string> GgmlTypeName(uint32_t type);

}  // namespace accel::quant
