#pragma once
// Linear on Q8_0 / Q4_0 weights with integer dot products: each row of activations is
// quantized per block of 32 to int8 with one f32 scale (d = max|x| / 127, as llama.cpp does for
// its Q8_0 activations), the weight and activation integers are multiplied and summed in int32
// (AVX512-VNNI vpdpbusd: 64 multiply-adds per instruction), and each block's sum is scaled by
// d_w * d_x into an f32 accumulator.
//
// Weights are repacked once at load into groups of 16 output rows, so that one 64-byte load
// holds 4 consecutive k of all 16 rows and an int32 lane accumulates one output. Within a group
// blocks come in pairs, [ints b][ints b+1][scales b][scales b+1] (16 f16 scales per block), so
// a group is one sequential stream (the prefetchers lose a stream at every jump, which costs
// most with short rows) in 64-byte aligned pairs:
//   Q8_0 block ints (512 bytes): [8 k-quads][16 rows][4] u8 = q + 128
//   Q4_0 block ints (256 bytes): [4 k-octets][16 rows][4] bytes whose low nibbles are k 8j..8j+3
//                                and high nibbles k 8j+4..8j+7 (q in 0..15)
// Weights are the unsigned operand of vpdpbusd, so the offsets (128, 8) come out as
// offset * sum(x_q) per block, a number per activation block shared by all outputs. A group
// takes exactly the bytes its 16 rows take in GGUF: decode reads no more than the file holds.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace accel::cpu {

inline constexpr int64_t kQuantGroupRows = 16;
inline constexpr int64_t kQuantBlock = 32;

// Integer bytes of one block of a group, and bytes of a whole packed [n, k] weight (n rounded up
// to 16 rows; a group takes blocks * (QuantBlockBytes + 32) bytes).
size_t QuantBlockBytes(DType t);
size_t PackedQuantBytes(DType t, int64_t n, int64_t k);
// Where block b's integers and scales start within its group of `blocks` blocks.
inline size_t QuantIntsOffset(size_t qbytes, int64_t blocks, int64_t b) {
  return static_cast<size_t>(b / 2) * 2 * (qbytes + 32) + static_cast<size_t>(b % 2) * qbytes;
}
inline size_t QuantScalesOffset(size_t qbytes, int64_t blocks, int64_t b) {
  const int64_t in_pair = std::min<int64_t>(2, blocks - b / 2 * 2);
  return static_cast<size_t>(b / 2) * 2 * (qbytes + 32) + static_cast<size_t>(in_pair) * qbytes + static_cast<size_t>(b % 2) * 32;
}
// Repacks GGUF-layout rows ([n, k] of Q8_0 or Q4_0 blocks) into the group layout; padding rows
// are zero with scale 0.
void PackQuantRows(DType t, const void* src, int64_t n, int64_t k, uint8_t* dst);

// Activations quantized per block: q [rows][k], d [rows][blocks], s [rows][blocks] = sum of q.
struct QuantizedRows {
  const int8_t* q;
  const float* d;
  const int32_t* s;
  int64_t k, blocks;
};

// y[r, g*16 + i] = sum over blocks of d_w * d_x * (int dot) for groups [0, groups) starting at
// `w` (packed), r < rows; only the first `n_left` columns of y are written (the last group may
// be padding).
using QuantGemmFn = void (*)(const uint8_t* w, int64_t groups, const QuantizedRows& x, int64_t rows, float* y,
                             int64_t ldy, int64_t n_left);
using QuantizeRowsFn = void (*)(const float* x, int64_t rows, int64_t ldx, int64_t k, int8_t* q, float* d, int32_t* s);

struct QuantKernels {
  const char* name;
  QuantGemmFn q8_0, q4_0;
  QuantizeRowsFn quantize;
};

// Scalar (any CPU; the reference the SIMD kernels are tested against) and AVX512-VNNI.
const QuantKernels& QuantKernelsGeneric();
const QuantKernels& QuantKernelsAvx512Vnni();
// The best this CPU runs.
const QuantKernels& GetQuantKernels();

}  // namespace accel::cpu
