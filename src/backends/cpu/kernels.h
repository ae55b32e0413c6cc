#pragma once
// Row-wise CPU kernels, compiled once per ISA (see rowwise_impl.h) and chosen at run time.
#include <cstdint>

#include "graph/backend.h"

namespace accel {
class ThreadPool;
}

namespace accel::cpu {

// One attention call's keys and values, packed per (batch, kv head) so a head streams
// contiguous memory: kt [batch][kv_heads][head_dim][kv_len] (K transposed: scores become sweeps
// over keys, or panels of a small GEMM), v [batch][kv_heads][kv_len][head_dim].
struct PackedKv {
  const float* kt;
  const float* v;
};
// Packs k/v rows ([batch, kv_len, kv_heads * head_dim], rows kv_stride floats apart) into `kt`
// and `v_out` (batch * kv_len * kv_heads * head_dim floats each), in parallel on `pool`.
void PackKv(const float* k, const float* v, int64_t kv_stride, int64_t batch, int64_t kv_len, int64_t kv_heads,
            int64_t head_dim, float* kt, float* v_out, ThreadPool& pool);

struct AttentionTaskArgs {
  const float* q;
  int64_t q_stride;
  PackedKv kv;
  int64_t q_len, kv_len;
  const uint8_t* allowed;  // [batch, kv_len] or null
  const AttentionParams* params;
  float* out;
  // Additive score bias [num_heads, q_len, kv_len] shared by the batch (T5), or null.
  const float* score_bias = nullptr;
};

struct RowKernels {
  void (*layer_norm)(const float* x, const float* gamma, const float* beta, float eps, int64_t n, float* y);
  void (*rms_norm)(const float* x, const float* gamma, float eps, int64_t n, float* y);
  void (*softmax)(float* x, int64_t n);
  void (*attention)(const AttentionTaskArgs& args, int64_t b, int64_t h, int64_t q0, int64_t q1);
};

const RowKernels& GetRowKernels();
const RowKernels& RowKernelsAvx512();
const RowKernels& RowKernelsGeneric();
// Rows [r0, r1) of x [rows, cols] into their columns of y [cols, rows] (transpose_avx512.cpp).
void TransposeRowsAvx512(const float* x, int64_t rows, int64_t cols, int64_t r0, int64_t r1, float* y);
// The AVX-512 attention task (attention_avx512.cpp): tiles of query rows against key panels.
void AttentionTaskAvx512(const AttentionTaskArgs& args, int64_t b, int64_t h, int64_t q0, int64_t q1);

}  // namespace accel::cpu
