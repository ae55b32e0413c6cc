// TransposeLast2, GroupNorm and AttentionWithBias on the CPU backend against straightforward
// scalar references (double precision), on odd sizes that cross the kernels' tile edges; the
// biased attention also through each ISA's row kernel directly.
#include <gtest/gtest.h>

#include "core/thread_pool.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/cpu_features.h"
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
    ASSERT_TRUE(be->AttentionWithBias(q, k, v, p, bias, out).ok());
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < Sq; ++i) {
          auto ref = RefAttention(q, k, v, bias, &mask, H, D, b, h, i, Sq, Skv, causal, static_cast<int>(p.query_offset), p.scale);
          for (int d = 0; d < D; ++d) ASSERT_NEAR(out.data<float>()[(b * Sq + i) * H * D + h * D + d], ref[d], 1e-4) << causal;
        }
  }
}

// The general case in double: grouped KV heads, strided rows, causal with an offset, sliding
// window, padding mask and a [H, Sq, Skv] bias. A row with no visible key averages every value
// uniformly, as HF's additive-mask softmax does (and as Attention does).
struct BiasCase {
  int B, H, KVH, D, Sq, Skv;
  int64_t q_stride, kv_stride;
  bool causal;
  int window;
};

std::vector<double> RefBiasedRow(const BiasCase& c, const AttentionParams& p, const float* q, const float* k, const float* v,
                                 const float* bias, const int64_t* mask, int b, int h, int i) {
  const int kvh = h / (c.H / c.KVH);
  const int64_t pos = p.query_offset + i;
  std::vector<double> s(c.Skv, -INFINITY);
  double best = -INFINITY;
  for (int j = 0; j < c.Skv; ++j) {
    bool ok = (!c.causal || j <= pos) && (c.window == 0 || pos - j < c.window) && (!mask || mask[b * c.Skv + j] != 0);
    if (!ok) continue;
    double dot = 0;
    for (int d = 0; d < c.D; ++d) dot += double(q[(b * c.Sq + i) * c.q_stride + h * c.D + d]) * k[(b * c.Skv + j) * c.kv_stride + kvh * c.D + d];
    s[j] = dot * p.scale + (bias ? bias[(h * c.Sq + i) * c.Skv + j] : 0.0);
    best = std::max(best, s[j]);
  }
  std::vector<double> out(c.D, 0.0);
  double total = 0;
  for (int j = 0; j < c.Skv; ++j) {
    const double w = best == -INFINITY ? 1.0 : (std::isinf(s[j]) ? 0.0 : std::exp(s[j] - best));
    total += w;
    for (int d = 0; d < c.D; ++d) out[d] += w * v[(b * c.Skv + j) * c.kv_stride + kvh * c.D + d];
  }
  for (auto& x : out) x /= total;
  return out;
}

TEST(CpuSeqOps, BiasedAttentionRowKernelsMatchScalarReferenceOnEveryIsa) {
  std::vector<std::pair<const char*, const cpu::RowKernels*>> isas = {{"generic", &cpu::RowKernelsGeneric()}};
  if (GetCpuFeatures().avx512f) isas.push_back({"avx512", &cpu::RowKernelsAvx512()});
  const std::vector<BiasCase> cases = {
      {2, 4, 2, 9, 5, 37, 3 * 4 * 9, 2 * 2 * 9, false, 0},  // grouped KV, fused-QKV-like strides, head_dim 9
      {2, 3, 3, 5, 4, 7, 15, 15, true, 0},                   // causal decoder step with a query offset
      {1, 2, 1, 16, 11, 11, 32, 16, true, 4},                // causal + sliding window
      {2, 2, 2, 8, 3, 6, 16, 16, false, 0},                  // batch 1 fully masked: uniform average
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const BiasCase& c = cases[ci];
    Tensor q = Random({c.B, c.Sq, c.q_stride}, 11 + ci), k = Random({c.B, c.Skv, c.kv_stride}, 21 + ci);
    Tensor v = Random({c.B, c.Skv, c.kv_stride}, 31 + ci), bias = Random({c.H, c.Sq, c.Skv}, 41 + ci);
    Tensor mask = Tensor::Zeros(DType::kI64, {c.B, c.Skv}).value();
    for (int b = 0; b < c.B; ++b)
      for (int j = 0; j < c.Skv; ++j) mask.data<int64_t>()[b * c.Skv + j] = ci == 3 ? b == 0 : (b == 0 || j % 3 != 1);
    std::vector<uint8_t> allowed(mask.numel());
    for (size_t i = 0; i < allowed.size(); ++i) allowed[i] = mask.data<int64_t>()[i] != 0;
    AttentionParams p;
    p.num_heads = c.H;
    p.num_kv_heads = c.KVH;
    p.head_dim = c.D;
    p.scale = 0.37f;
    p.causal = c.causal;
    p.sliding_window = c.window;
    p.query_offset = c.causal ? c.Skv - c.Sq : 0;
    p.key_padding_mask = &mask;
    for (const auto& [isa, kern] : isas) {
      Tensor out = Tensor::Zeros(DType::kF32, {c.B, c.Sq, c.H * c.D}).value();
      std::vector<float> kt(static_cast<size_t>(c.B * c.Skv * c.KVH * c.D)), vp(kt.size());
      cpu::PackKv(k.data<float>(), v.data<float>(), c.kv_stride, c.B, c.Skv, c.KVH, c.D, kt.data(), vp.data(),
                  ThreadPool::Global());
      cpu::AttentionTaskArgs args{q.data<float>(), c.q_stride, {kt.data(), vp.data()}, c.Sq, c.Skv,
                                  allowed.data(), &p, out.data<float>(), bias.data<float>()};
      for (int b = 0; b < c.B; ++b)
        for (int h = 0; h < c.H; ++h) kern->attention(args, b, h, 0, c.Sq);
      for (int b = 0; b < c.B; ++b)
        for (int h = 0; h < c.H; ++h)
          for (int i = 0; i < c.Sq; ++i) {
            auto ref = RefBiasedRow(c, p, q.data<float>(), k.data<float>(), v.data<float>(), bias.data<float>(),
                                    mask.data<int64_t>(), b, h, i);
            for (int d = 0; d < c.D; ++d)
              ASSERT_NEAR(out.data<float>()[(b * c.Sq + i) * c.H * c.D + h * c.D + d], ref[d], 2e-5)
                  << isa << " case " << ci << " b" << b << " h" << h << " i" << i;
          }
    }
    // Through the backend: the same numbers, and a zero bias is exactly Attention.
    auto be = Cpu();
    // Views of the first H*D (q) and KVH*D (k, v) columns of the wider fused rows.
    const Tensor qv = q.Columns(0, c.H * c.D), kv = k.Columns(0, c.KVH * c.D), vv = v.Columns(0, c.KVH * c.D);
    Tensor via_backend = Tensor::Zeros(DType::kF32, {c.B, c.Sq, c.H * c.D}).value();
    ASSERT_TRUE(be->AttentionWithBias(qv, kv, vv, p, bias, via_backend).ok());
    for (int b = 0; b < c.B; ++b)
      for (int h = 0; h < c.H; ++h)
        for (int i = 0; i < c.Sq; ++i) {
          auto ref = RefBiasedRow(c, p, q.data<float>(), k.data<float>(), v.data<float>(), bias.data<float>(),
                                  mask.data<int64_t>(), b, h, i);
          for (int d = 0; d < c.D; ++d) ASSERT_NEAR(via_backend.data<float>()[(b * c.Sq + i) * c.H * c.D + h * c.D + d], ref[d], 2e-5);
        }
    Tensor zero = Tensor::Zeros(DType::kF32, {c.H, c.Sq, c.Skv}).value();
    Tensor biased = Tensor::Zeros(DType::kF32, {c.B, c.Sq, c.H * c.D}).value();
    Tensor plain = Tensor::Zeros(DType::kF32, {c.B, c.Sq, c.H * c.D}).value();
    ASSERT_TRUE(be->AttentionWithBias(qv, kv, vv, p, zero, biased).ok());
    ASSERT_TRUE(be->Attention(qv, kv, vv, p, plain).ok());
    for (size_t i = 0; i < plain.numel(); ++i) ASSERT_EQ(biased.data<float>()[i], plain.data<float>()[i]) << "case " << ci;
  }
}

}  // namespace
}  // namespace accel
