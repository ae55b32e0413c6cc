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
};

// Up to kAttentionBlockRows query rows of one head against K^T ([head_dim][kv_len]) and V;
// row i sees keys [key_begin[i], key_end[i]) that `allowed` (per key, or null) permits.
constexpr int kAttentionBlockRows = 8;
struct AttentionBlock {
  const float* q;
  int64_t q_stride;
  int rows;
  const float* kt;
  const float* v;
  int64_t kv_stride, kv_len, head_dim;
  float scale;
  const int64_t* key_begin;
  const int64_t* key_end;
  const uint8_t* allowed;
  float* out;
  int64_t out_stride;
};
// Writes the rows' outputs; returns a bit mask of the rows that see no key at all, which it
// leaves to the caller. `workspace` holds (head_dim + kv_len) * kAttentionBlockRows floats.
uint32_t AttendBlockAvx512(const AttentionBlock& block, float* workspace);

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
