// Packing of one attention call's keys and values (kernels.h: PackedKv). Done once per call and
// shared by every query block of a head, so the attention tasks themselves only read.
#include <algorithm>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "core/thread_pool.h"

namespace accel::cpu {

void PackKv(const float* k, const float* v, int64_t kv_stride, int64_t batch, int64_t kv_len, int64_t kv_heads,
            int64_t head_dim, float* kt, float* v_out, ThreadPool& pool) {
  const int64_t d = head_dim, head_size = kv_len * d;
  pool.Run(batch * kv_heads, [&](int64_t task) {
    const int64_t b = task / kv_heads, h = task % kv_heads;
    const float* kb = k + b * kv_len * kv_stride + h * d;
    const float* vb = v + b * kv_len * kv_stride + h * d;
    float* kt_head = kt + task * head_size;
    float* v_head = v_out + task * head_size;
    for (int64_t j = 0; j < kv_len; ++j) std::memcpy(v_head + j * d, vb + j * kv_stride, sizeof(float) * d);
    // Blocks of 16 keys: their rows stay in L1 while each of the d output rows gets 16
    // contiguous floats.
    for (int64_t j0 = 0; j0 < kv_len; j0 += 16) {
      const int64_t j1 = std::min(kv_len, j0 + 16);
      for (int64_t x = 0; x < d; ++x) {
        float* dst = kt_head + x * kv_len;
        for (int64_t j = j0; j < j1; ++j) dst[j] = kb[j * kv_stride + x];
      }
    }
  });
}

}  // namespace accel::cpu
