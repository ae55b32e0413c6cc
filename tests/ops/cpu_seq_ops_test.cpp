// TransposeLast2, GroupNorm and AttentionWithBias on the CPU backend against straightforward
// scalar references (double precision), on odd sizes that cross the kernels' tile edges.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "runtime/devices.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}

std::unique_ptr<Backend> Cpu() { return CreateBackend("cpu").value(); }

TEST(CpuSeqOps, TransposeLast2MatchesIndexing) {
  auto be = Cpu();
  // Partial 16 x 16 register tiles on both sides, exact tiles, thin matrices, many row tiles.
  for (const Shape& shape : {Shape{3, 37, 45}, Shape{1, 16, 16}, Shape{2, 100, 3}, Shape{1, 3, 100}, Shape{1, 150, 64}}) {
    const int64_t batch = shape[0], rows = shape[1], cols = shape[2];
    Tensor x = Random(shape, 1);
    Tensor y = Tensor::Zeros(DType::kF32, {batch, cols, rows}).value();
    ASSERT_TRUE(be->TransposeLast2(x, y).ok());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          ASSERT_EQ(y.data<float>()[(b * cols + c) * rows + r], x.data<float>()[(b * rows + r) * cols + c]) << ShapeToString(shape);
  }
  Tensor x = Random({3, 37, 45}, 1);
  Tensor bad = Tensor::Zeros(DType::kF32, {3, 37, 45}).value();
  EXPECT_FALSE(be->TransposeLast2(x, bad).ok());
}

TEST(CpuSeqOps, GroupNormMatchesScalarReference) {
  auto be = Cpu();
  const int B = 2, C = 6, L = 19, G = 3;
  Tensor x = Random({B, C, L}, 2), gamma = Random({C}, 3), beta = Random({C}, 4);
  Tensor y = Tensor::Zeros(DType::kF32, {B, C, L}).value();
  ASSERT_TRUE(be->GroupNorm(x, G, gamma, &beta, 1e-5f, y).ok());
  const int per = C / G;
  for (int b = 0; b < B; ++b) {
    for (int g = 0; g < G; ++g) {
      double mean = 0, var = 0;
      for (int c = g * per; c < (g + 1) * per; ++c)
        for (int i = 0; i < L; ++i) mean += x.data<float>()[(b * C + c) * L + i];
      mean /= per * L;
      for (int c = g * per; c < (g + 1) * per; ++c)
        for (int i = 0; i < L; ++i) var += std::pow(x.data<float>()[(b * C + c) * L + i] - mean, 2);
      var /= per * L;
      for (int c = g * per; c < (g + 1) * per; ++c) {
        for (int i = 0; i < L; ++i) {
          const double ref = (x.data<float>()[(b * C + c) * L + i] - mean) / std::sqrt(var + 1e-5) * gamma.data<float>()[c] +
                             beta.data<float>()[c];
          ASSERT_NEAR(y.data<float>()[(b * C + c) * L + i], ref, 1e-4);
        }
      }
    }
  }
  EXPECT_FALSE(be->GroupNorm(x, 4, gamma, &beta, 1e-5f, y).ok());  // 6 channels do not split in 4 groups
}

// softmax(scale * q.k + bias, masked) . v for one (b, h, i), in double.
std::vector<double> RefAttention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, const Tensor* mask,
                                 int H, int D, int b, int h, int i, int Sq, int Skv, bool causal, int offset, float scale) {
  std::vector<double> s(Skv);
  double best = -INFINITY;
  for (int j = 0; j < Skv; ++j) {
    bool ok = (!causal || j <= offset + i) && (!mask || mask->data<int64_t>()[b * Skv + j] != 0);
    if (!ok) {
      s[j] = -INFINITY;
      continue;
    }
    double dot = 0;
    for (int d = 0; d < D; ++d) dot += q.data<float>()[(b * Sq + i) * H * D + h * D + d] * k.data<float>()[(b * Skv + j) * H * D + h * D + d];
    s[j] = dot * scale + bias.data<float>()[(h * Sq + i) * Skv + j];
    best = std::max(best, s[j]);
  }
  double total = 0;
  for (auto& x : s) total += (x = std::isinf(x) ? 0 : std::exp(x - best));
  std::vector<double> out(D, 0.0);
  for (int j = 0; j < Skv; ++j)
    for (int d = 0; d < D; ++d) out[d] += s[j] / total * v.data<float>()[(b * Skv + j) * H * D + h * D + d];
  return out;
}

TEST(CpuSeqOps, AttentionWithBiasMatchesScalarReference) {
  auto be = Cpu();
  const int B = 2, H = 3, D = 5, Sq = 4, Skv = 7;
  Tensor q = Random({B, Sq, H * D}, 5), k = Random({B, Skv, H * D}, 6), v = Random({B, Skv, H * D}, 7);
  Tensor bias = Random({H, Sq, Skv}, 8);
  Tensor mask = Tensor::Zeros(DType::kI64, {B, Skv}).value();
  for (int j = 0; j < Skv; ++j) mask.data<int64_t>()[j] = 1, mask.data<int64_t>()[Skv + j] = j < 5;
  for (bool causal : {false, true}) {
    AttentionParams p;
    p.num_heads = p.num_kv_heads = H;
    p.head_dim = D;
    p.scale = 0.7f;
    p.causal = causal;
    p.query_offset = causal ? Skv - Sq : 0;
    p.key_padding_mask = &mask;
    Tensor out = Tensor::Zeros(DType::kF32, {B, Sq, H * D}).value();
    ASSERT_TRUE(be->AttentionWithBias(q.data<float>(), H * D, k.data<float>(), v.data<float>(), H * D, B, Sq, Skv, p,
                                      bias.data<float>(), out).ok());
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < Sq; ++i) {
          auto ref = RefAttention(q, k, v, bias, &mask, H, D, b, h, i, Sq, Skv, causal, static_cast<int>(p.query_offset), p.scale);
          for (int d = 0; d < D; ++d) ASSERT_NEAR(out.data<float>()[(b * Sq + i) * H * D + h * D + d], ref[d], 1e-4) << causal;
        }
  }
}

}  // namespace
}  // namespace accel
