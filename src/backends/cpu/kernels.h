#pragma once
// Row-wise CPU kernels, compiled once per ISA (see rowwise_impl.h) and chosen at run time.
#include <cstdint>

#include "graph/backend.h"

namespace accel::cpu {

struct AttentionTaskArgs {
  const float* q;
  int64_t q_stride;
  const float* k;
  const float* v;
  int64_t kv_stride;
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

}  // namespace accel::cpu
