// Conv1d / Conv2d of the CPU backend against a double-precision direct convolution, over the
// paths the lowering takes: one group (the GEMM reads the channels-last input in place, row
// stride = stride x channels), several groups (unfolded rows), padding on both sides, strides
// that do not divide the length, ViT's stride = kernel patches, batches > 1, and no bias.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

struct Conv2dCase {
  int64_t batch, cin, h, w, cout, kh, kw;
  int stride, padding, groups;
  bool bias;
};

// 1-D cases are 2-D ones with h = kh = 1 and no vertical padding; the reference is shared.
void CheckConv(const Conv2dCase& c, bool one_d) {
  CpuBackend cpu(ThreadPool::Global());
  const int64_t cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  const int64_t ho = one_d ? 1 : (c.h + 2 * c.padding - c.kh) / c.stride + 1;
  const int64_t wo = (c.w + 2 * c.padding - c.kw) / c.stride + 1;
  Tensor x = Random(one_d ? Shape{c.batch, c.cin, c.w} : Shape{c.batch, c.cin, c.h, c.w}, 1);
  Tensor w = Random(one_d ? Shape{c.cout, cin_g, c.kw} : Shape{c.cout, cin_g, c.kh, c.kw}, 2);
  Tensor b = Random({c.cout}, 3);
  Tensor y = Tensor::Zeros(DType::kF32, one_d ? Shape{c.batch, c.cout, wo} : Shape{c.batch, c.cout, ho, wo}).value();
  const Tensor* bias = c.bias ? &b : nullptr;
  Status s = one_d ? cpu.Conv1d(x, w, bias, c.stride, c.padding, c.groups, y) : cpu.Conv2d(x, w, bias, c.stride, c.padding, c.groups, y);
  ASSERT_TRUE(s.ok()) << s.message();
  const int64_t h = one_d ? 1 : c.h, kh = one_d ? 1 : c.kh, vpad = one_d ? 0 : c.padding;
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          const int64_t g = co / cout_g;
          double acc = c.bias ? b.data<float>()[co] : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * (one_d ? 1 : c.stride) - vpad + i, iw = ow * c.stride - c.padding + j;
                if (ih < 0 || ih >= h || iw < 0 || iw >= c.w) continue;
                acc += double(x.data<float>()[((n * c.cin + g * cin_g + ci) * h + ih) * c.w + iw]) *
                       w.data<float>()[((co * cin_g + ci) * kh + i) * c.kw + j];
              }
          ASSERT_NEAR(y.data<float>()[((n * c.cout + co) * ho + oh) * wo + ow], acc, 1e-4)
              << (one_d ? "conv1d" : "conv2d") << " n " << n << " co " << co << " oh " << oh << " ow " << ow;
        }
}

TEST(CpuConv, Conv1dMatchesDirect) {
  // {batch, cin, -, length, cout, -, kernel, stride, padding, groups, bias}
  for (const Conv2dCase& c : {Conv2dCase{1, 80, 1, 60, 64, 1, 3, 1, 1, 1, true},   // Whisper conv1
                              Conv2dCase{2, 64, 1, 60, 48, 1, 3, 2, 1, 1, true},   // Whisper conv2: stride 2
                              Conv2dCase{2, 3, 1, 37, 5, 1, 10, 5, 0, 1, false},   // wav2vec2 feature conv
                              Conv2dCase{1, 8, 1, 29, 8, 1, 7, 1, 3, 4, true},     // grouped positional conv
                              Conv2dCase{3, 6, 1, 19, 4, 1, 3, 3, 2, 2, true}}) {  // stride not dividing
    CheckConv(c, true);
  }
}

TEST(CpuConv, Conv2dMatchesDirect) {
  for (const Conv2dCase& c : {Conv2dCase{3, 3, 32, 32, 24, 16, 16, 16, 0, 1, true},  // ViT patches, batch 3
                              Conv2dCase{1, 3, 10, 9, 5, 4, 4, 4, 0, 1, false},     // image not a multiple of the patch
                              Conv2dCase{2, 4, 7, 8, 6, 3, 3, 1, 1, 2, true},       // padded, grouped
                              Conv2dCase{1, 2, 9, 6, 3, 3, 2, 2, 2, 1, true}}) {     // padding wider than a step
    CheckConv(c, false);
  }
}

TEST(CpuConv, RejectsBadShapes) {
  CpuBackend cpu(ThreadPool::Global());
  Tensor x = Random({1, 4, 10}, 1), w = Random({6, 4, 3}, 2);
  Tensor wrong = Tensor::Zeros(DType::kF32, {1, 6, 9}).value();
  EXPECT_FALSE(cpu.Conv1d(x, w, nullptr, 1, 0, 1, wrong).ok());  // output should have 8 positions
  Tensor y = Tensor::Zeros(DType::kF32, {1, 6, 8}).value();
  Tensor short_bias = Random({5}, 3);
  EXPECT_FALSE(cpu.Conv1d(x, w, &short_bias, 1, 0, 1, y).ok());
  EXPECT_FALSE(cpu.Conv1d(x, w, nullptr, 1, 0, 3, y).ok());  // 4 channels in 3 groups
  EXPECT_TRUE(cpu.Conv1d(x, w, nullptr, 1, 0, 1, y).ok());
}

}  // namespace
}  // namespace accel
