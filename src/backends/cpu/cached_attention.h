#pragma once
// CachedAttention's kernels: one task is one batch row, one KV head and a run of query rows,
// with every query head that shares that KV head (grouped-query attention), so each key and
// value row is read once per group rather than once per query head. At decode the cache is
// the largest thing attention touches, and for small models a noticeable share of the bytes a
// token reads.
#include <cstdint>

#include "graph/backend.h"

namespace accel::cpu {

// CachedAttentionArgs resolved to host pointers: the cache is [batch, capacity, kv width] with
// rows kv_row_stride apart and batches kv_batch_stride apart; `allowed` rows mask_stride apart.
// A quantized cache (kv_dtype q8_0 / q4_0, blocks of 32 along each head) is read through kq/vq
// instead, rows kv_row_bytes and batches kv_batch_bytes apart; KV head kh's blocks start
// kh * head_dim / 32 blocks into a row. The kernels dequantize block by block as they go.
struct CachedAttentionRaw {
  const float* q = nullptr;
  int64_t q_stride = 0;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t kv_row_stride = 0, kv_batch_stride = 0;
  DType kv_dtype = DType::kF32;
  const uint8_t* kq = nullptr;
  const uint8_t* vq = nullptr;
  int64_t kv_row_bytes = 0, kv_batch_bytes = 0;
  int64_t batch = 0, q_len = 0, kv_len = 0;
  const uint8_t* allowed = nullptr;
  int64_t mask_stride = 0;
  const float* alibi_slopes = nullptr;
  const float* key_positions = nullptr;
};

// Writes out[(b * q_len + i) * num_heads * head_dim + h * head_dim ...] for query rows
// [i0, i1) and the heads of KV head kh.
using CachedAttentionFn = void (*)(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh,
                                   int64_t i0, int64_t i1, float* out);

// Portable (any head_dim; a quantized cache needs head_dim % 32 == 0); AVX-512 (head_dim a
// multiple of 16 up to 256, else it runs the portable one).
void CachedAttentionGeneric(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0,
                            int64_t i1, float* out);
void CachedAttentionAvx512(const CachedAttentionRaw& a, const AttentionParams& p, int64_t b, int64_t kh, int64_t i0,
                           int64_t i1, float* out);
CachedAttentionFn GetCachedAttention();

}  // namespace accel::cpu
