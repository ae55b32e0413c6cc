// Both attention task kernels (the portable row-at-a-time one and the AVX-512 tiled one)
// against a double-precision reference, at shapes that hit the tiled kernel's edges: query
// blocks that are not multiples of its 6-row tile, key counts that end inside a 16-key vector
// and a 64-key panel, head dims of 8 / 20 / 64 / 80 / 128 (partial vectors, two output
// panels), causal and sliding windows, grouped heads, padding masks and fully masked rows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "test_util.h"

namespace accel {
namespace {

struct Case {
  int64_t batch, q_len, kv_len, heads, kv_heads, head_dim;
  bool causal;
  int window;
  int64_t offset;
  bool mask;
};

void CheckKernel(void (*task)(const cpu::AttentionTaskArgs&, int64_t, int64_t, int64_t, int64_t), const Case& c) {
  const int64_t D = c.head_dim, width_q = c.heads * D, width_kv = c.kv_heads * D;
  // q/k/v rows with extra columns, as slices of a fused projection are.
  const int64_t q_stride = width_q + 3, kv_stride = width_kv + 5;
  const auto q = test::RandomFloats(c.batch * c.q_len * q_stride, 1, 2.0f), k = test::RandomFloats(c.batch * c.kv_len * kv_stride, 2, 2.0f),
             v = test::RandomFloats(c.batch * c.kv_len * kv_stride, 3, 2.0f);
  std::vector<uint8_t> allowed;
  if (c.mask) {
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t j = 0; j < c.kv_len; ++j) allowed.push_back(b == 1 ? 0 : (j < c.kv_len - 3 * b && j % 7 != 3));  // batch 1: all masked
  }
  AttentionParams p;
  p.num_heads = static_cast<int>(c.heads), p.num_kv_heads = static_cast<int>(c.kv_heads), p.head_dim = static_cast<int>(D);
  p.scale = 1.0f / std::sqrt(static_cast<float>(D));
  p.causal = c.causal, p.sliding_window = c.window, p.query_offset = c.offset;
  std::vector<float> kt(c.batch * c.kv_len * width_kv), vp(kt.size()), out(c.batch * c.q_len * width_q, -7.0f);
  cpu::PackKv(k.data(), v.data(), kv_stride, c.batch, c.kv_len, c.kv_heads, D, kt.data(), vp.data(), ThreadPool::Global());
  cpu::AttentionTaskArgs args{q.data(), q_stride, {kt.data(), vp.data()}, c.q_len, c.kv_len, allowed.empty() ? nullptr : allowed.data(), &p,
                              out.data()};
  // Uneven query blocks: 13 rows per task.
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i0 = 0; i0 < c.q_len; i0 += 13) task(args, b, h, i0, std::min(c.q_len, i0 + 13));

  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.q_len; ++i) {
        const int64_t kh = h / (c.heads / c.kv_heads), pos = c.offset + i;
        std::vector<double> s(c.kv_len);
        std::vector<bool> ok(c.kv_len);
        double mx = -1e300;
        bool any = false;
        for (int64_t j = 0; j < c.kv_len; ++j) {
          ok[j] = (!c.causal || j <= pos) && (c.window == 0 || pos - j < c.window) && (allowed.empty() || allowed[b * c.kv_len + j]);
          double dot = 0;
          for (int64_t x = 0; x < D; ++x) dot += double(q[(b * c.q_len + i) * q_stride + h * D + x]) * k[(b * c.kv_len + j) * kv_stride + kh * D + x];
          s[j] = dot * p.scale;
          if (ok[j]) mx = std::max(mx, s[j]), any = true;
        }
        double sum = 0;
        for (int64_t j = 0; j < c.kv_len; ++j) sum += s[j] = any ? (ok[j] ? std::exp(s[j] - mx) : 0.0) : 1.0;
        for (int64_t x = 0; x < D; ++x) {
          double want = 0;
          for (int64_t j = 0; j < c.kv_len; ++j) want += s[j] / sum * v[(b * c.kv_len + j) * kv_stride + kh * D + x];
          ASSERT_NEAR(out[(b * c.q_len + i) * width_q + h * D + x], want, 2e-5)
              << "b " << b << " h " << h << " i " << i << " x " << x << " (kv " << c.kv_len << ", d " << D << ")";
        }
      }
}

const Case kCases[] = {
    {1, 150, 150, 2, 2, 64, false, 0, 0, false},  // Whisper-like: 150 = 2 x 64 + 22 keys
    {3, 37, 37, 2, 1, 80, false, 0, 0, true},     // two output panels (64 + 16), grouped heads, masks
    {1, 29, 29, 3, 3, 20, true, 0, 0, false},     // causal: each tile row has its own key range
    {2, 19, 45, 4, 2, 8, true, 5, 26, true},      // sliding window with a query offset
    {1, 1, 77, 2, 2, 128, true, 0, 76, false},    // one decode row, head dim 128
    {1, 7, 16, 1, 1, 64, false, 0, 0, false},     // exactly one vector of keys
};

TEST(AttentionKernels, PortableMatchesReference) {
  for (const auto& c : kCases) CheckKernel(cpu::RowKernelsGeneric().attention, c);
}

TEST(AttentionKernels, Avx512MatchesReference) {
  if (!GetCpuFeatures().avx512f || !GetCpuFeatures().avx512bw) GTEST_SKIP() << "no AVX-512";
  for (const auto& c : kCases) CheckKernel(cpu::AttentionTaskAvx512, c);
}

}  // namespace
}  // namespace accel
