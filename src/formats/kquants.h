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
// Q3_K (110 bytes, 3.4375 bits/weight): 16 sub-blocks of 16 with 6-bit signed scales;
//   w = d * (sc[j] - 32) * (q - 4), q in 0..7.  Order: hmask[32], qs[64], scales[12], d (fp16).
//   Weight i = 128h + 32c + l (h < 2, c < 4, l < 32): low bits (qs[32h + l] >> 2c) & 3, high bit
//   (hmask[l] >> (4h + c)) & 1; its sub-block is j = i / 16 (= 8h + 2c + l / 16).
//   Scale j: low 4 bits = j < 8 ? scales[j] & 15 : scales[j - 8] >> 4,
//            high 2 bits = (scales[8 + j % 4] >> 2 (j / 4)) & 3.
// Q2_K (84 bytes, 2.625 bits/weight): 16 sub-blocks of 16, each with a 4-bit scale and min;
//   w = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4), q in 0..3.
//   Order: scales[16], qs[64], d, dmin (fp16).  Weight i = 128h + 32c + l: q = (qs[32h + l] >> 2c) & 3,
//   sub-block j = i / 16.
// IQ4_NL (blocks of 32, 18 bytes, 4.5 bits/weight): d (fp16), qs[16]; byte l holds the index of
//   weight l (low nibble) and weight l + 16 (high nibble) into the non-linear grid kIq4nlValues;
//   w = d * kIq4nlValues[index].
// IQ4_XS (136 bytes, 4.25 bits/weight): IQ4_NL's grid with 8 sub-blocks of 32 under one scale;
//   w = d * (ls_j - 32) * kIq4nlValues[index], ls_j a 6-bit sub-block scale.
//   Order: d (fp16), scales_h (u16), scales_l[4], qs[128].  ls_j's low 4 bits are
//   (scales_l[j / 2] >> 4 (j % 2)) & 15, its high 2 bits (scales_h >> 2j) & 3.  Sub-block j's
//   16 bytes qs[16j ..): byte l holds weight 32j + l (low nibble) and 32j + 16 + l (high nibble).
// Q8_K (activations only, never in a file here): 256 int8 with one f32 scale and the sums of
//   each 16, so the formats' offsets (mins, -32) cost one small dot per super-block.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "formats/quant_search.h"

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
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d, dmin;
};
inline constexpr int kIq4nlBlock = 32;
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ3_K) == 110 && sizeof(BlockQ2_K) == 84 && sizeof(BlockIQ4_NL) == 18, "GGUF low-bit layouts");
// IQ4_NL's grid (ggml's kvalues_iq4nl): denser near zero, where trained weights crowd.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K layout");
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};
static_assert(sizeof(BlockIQ4_XS) == 136, "GGUF IQ4_XS layout");

// Sub-block j's 6-bit IQ4_XS scale, already minus 32 (-32..31).
inline int ScaleIQ4XS(const BlockIQ4_XS& b, int j) {
  return (((b.scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((b.scales_h >> (2 * j)) & 3) << 4)) - 32;
}

// The types whose Linear runs on Q8_K activations (kquant_gemm.h): the K-quants, IQ4_XS and IQ4_NL
// (whose 32-blocks sit eight to a Q8_K block, so its Linear needs rows of whole 256s).
inline bool IsKQuant(DType t) {
  return t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K || t == DType::kQ3_K || t == DType::kQ2_K || t == DType::kIQ4_NL ||
         t == DType::kIQ4_XS;
}

// Q3_K sub-block j's scale, already minus 32 (-32..31).
inline int ScaleQ3K(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 15 : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

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

// n is a multiple of 256 (32 for IQ4_NL). Each sub-block's scale (and min) comes from
// quant_search.h's fits under `p` (weighted least squares as llama.cpp's k-quants, or plain
// rounding), then the sub-block scales are rounded to the format's bits (6 for Q4_K/Q5_K/Q3_K/
// IQ4_XS, 8 for Q6_K, 4 for Q2_K) and the weights requantized under the scales as stored.
void QuantizeQ4_K(const float* x, size_t n, BlockQ4_K* out, const QuantParams& p = {});
void QuantizeQ5_K(const float* x, size_t n, BlockQ5_K* out, const QuantParams& p = {});
void QuantizeQ6_K(const float* x, size_t n, BlockQ6_K* out, const QuantParams& p = {});
void QuantizeQ3_K(const float* x, size_t n, BlockQ3_K* out, const QuantParams& p = {});
void QuantizeQ2_K(const float* x, size_t n, BlockQ2_K* out, const QuantParams& p = {});
void QuantizeIQ4_NL(const float* x, size_t n, BlockIQ4_NL* out, const QuantParams& p = {});
void QuantizeIQ4_XS(const float* x, size_t n, BlockIQ4_XS* out, const QuantParams& p = {});
void DequantizeQ4_K(const BlockQ4_K* b, size_t n, float* out);
void DequantizeQ5_K(const BlockQ5_K* b, size_t n, float* out);
void DequantizeQ6_K(const BlockQ6_K* b, size_t n, float* out);
void DequantizeQ3_K(const BlockQ3_K* b, size_t n, float* out);
void DequantizeQ2_K(const BlockQ2_K* b, size_t n, float* out);
void DequantizeIQ4_NL(const BlockIQ4_NL* b, size_t n, float* out);
void DequantizeIQ4_XS(const BlockIQ4_XS* b, size_t n, float* out);
// Symmetric: d = max|x| / 127, q = round-to-nearest-even(x / d), bsums exact.
void QuantizeQ8_K(const float* x, size_t n, BlockQ8_K* out);

// Dispatch on dtype (IsKQuant types); raw points at the blocks of n elements.
void QuantizeK(DType t, const float* x, size_t n, void* raw, const QuantParams& p = {});
void DequantizeK(DType t, const void* raw, size_t n, float* out);

// ggml's name of a ggml type id ("Q4_K", "IQ4_XS", ...), nullopt for ids ggml never assigned.
std::optional<std::string> GgmlTypeName(uint32_t type);

}  // namespace accel::quant
