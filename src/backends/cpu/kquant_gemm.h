#pragma once
// Linear on GGUF K-quant weights (Q4_K, Q5_K, Q6_K, Q3_K, Q2_K, IQ4_NL, IQ4_XS; layouts in formats/kquants.h), consumed in
// the file's own layout: no repacking at load and no dequantized copy, so the weight stays a view
// of the mapped file and decode reads exactly its bytes (4.5 / 5.5 / 6.56 bits per weight).
// Prefill (the 512-bit kernels, m >= 8 rows) unpacks 16 rows at a time into a per-thread scratch
// group of bytes (a few KiB per 256 of k) and reuses it for every activation row.
//
// Activations are quantized per row to Q8_K (256 int8 + one f32 scale + 16-element sums). Per
// super-block, the integer part (sum over sub-blocks of scale_j * sum q_w * q_x) is exact in
// int32, and the formats' offsets come from the 16-element sums: Q4_K/Q5_K's mins as
// dmin * sum_j m_j * bsum_j, Q6_K's -32 as 32 * sum_j sc_j * bsum_j. Each super-block then adds
// d_x * d_w * (integer) to an f32 accumulator.
// Q3_K: sum_j (sc_j - 32) * sum v * q_x with v = q + 4 in 0..7, the -4 as 4 * sum_j sc_j * bsum_j.
// Q2_K: as Q4_K with sub-blocks of 16 (one bsum each). IQ4_NL: each 32-block's grid values dot
// the activations in int32 and add d_x * d_w * (integer); rows of IQ4_NL must be whole 256s.
// IQ4_XS: as IQ4_NL per 32 but with the 6-bit scale (ls_j - 32) multiplying each 32's integer
// sum in int32, and one d_x * d_w per super-block.
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"
#include "formats/kquants.h"
#include "graph/backend.h"

namespace accel {
class ThreadPool;
}  // namespace accel

namespace accel::cpu {

// y[r * ldy + j] = row j of the weight (rows of `row_bytes`, nb super-blocks each) dot activation
// row r (x + r * nb) for j in [j0, j1), r < m; bias and activation are the caller's.
using KQuantGemmFn = void (*)(const uint8_t* w, size_t row_bytes, int64_t j0, int64_t j1, const quant::BlockQ8_K* x,
                              int64_t m, int64_t nb, float* y, int64_t ldy);

struct KQuantKernels {
  const char* name;
  KQuantGemmFn q4_k, q5_k, q6_k, q3_k, q2_k, iq4_nl, iq4_xs;
  KQuantGemmFn For(DType t) const {
    switch (t) {
      case DType::kQ4_K: return q4_k;
      case DType::kQ5_K: return q5_k;
      case DType::kQ3_K: return q3_k;
      case DType::kQ2_K: return q2_k;
      case DType::kIQ4_NL: return iq4_nl;
      case DType::kIQ4_XS: return iq4_xs;
      default: return q6_k;
    }
  }
};

// Scalar (the reference: integer sums per super-block, combined in f32 in a fixed order), AVX2
// and AVX512-VNNI (+BW/VL; 512-bit registers, vpdpwssd).
const KQuantKernels& KQuantKernelsGeneric();
const KQuantKernels& KQuantKernelsAvx2();
const KQuantKernels& KQuantKernelsAvx512Vnni();
// The best this CPU runs.
const KQuantKernels& GetKQuantKernels();

// The CPU backend's Linear on a K-quant weight ([n, k], k a multiple of 256): the packed form
// holds the weight tensor itself (a view, usually of the mapped GGUF file).
Result<PackedLinear> PackKQuantLinear(const Tensor& w);
Status KQuantLinear(ThreadPool& pool, const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y);

}  // namespace accel::cpu
