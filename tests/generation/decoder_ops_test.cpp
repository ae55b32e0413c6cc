// The generation operators of the CPU backend against straightforward scalar references.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"
#include "graph/exec.h"
#include "models/decoder/kv_cache.h"
#include "models/decoder/rope.h"
#include "models/decoder/weights_util.h"
#include "test_util.h"

namespace accel {
namespace {

TEST(RopeOp, MatchesScalarReferenceBothPairings) {
  ThreadPool pool(2);
  CpuBackend cpu(pool);
  const int heads = 3, d = 8, rot = 6, rows = 5;
  const int64_t stride = heads * d + 4;  // rows of a wider fused projection
  const std::vector<float> inv = {1.0f, 0.1f, 0.01f};
  const std::vector<int64_t> pos = {0, 1, 7, 30, 2};
  for (bool interleaved : {false, true}) {
    std::vector<float> x = test::RandomFloats(rows * stride, 1), ref = x;
    for (int r = 0; r < rows; ++r) {
      for (int h = 0; h < heads; ++h) {
        float* v = ref.data() + r * stride + h * d;
        std::vector<float> orig(v, v + d);
        for (int i = 0; i < rot / 2; ++i) {
          const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + rot / 2;
          const double ang = pos[r] * inv[i];
          v[a] = static_cast<float>(orig[a] * std::cos(ang) - orig[b] * std::sin(ang));
          v[b] = static_cast<float>(orig[b] * std::cos(ang) + orig[a] * std::sin(ang));
        }
      }
    }
    RopeParams p{heads, d, rot, interleaved, inv, 1.0f};
    Tensor xt = Tensor::Wrap(DType::kF32, {rows, stride}, x.data(), nullptr).Columns(0, heads * d);
    Tensor pt = Tensor::Wrap(DType::kI64, {rows}, const_cast<int64_t*>(pos.data()), nullptr);
    ASSERT_TRUE(cpu.Rope(xt, pt, p).ok());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], ref[i], 1e-5) << i << " interleaved " << interleaved;
  }
}

// Softmax attention of one query row written out plainly.
void ReferenceRow(const float* q, const float* k, const float* v, int64_t stride, int64_t n_keys,
                  const std::vector<bool>& visible, const std::vector<float>& bias, int d, float scale, float* out) {
  std::vector<double> s(n_keys);
  double mx = -1e300, sum = 0;
  for (int64_t j = 0; j < n_keys; ++j) {
    if (!visible[j]) continue;
    double dot = 0;
    for (int e = 0; e < d; ++e) dot += q[e] * k[j * stride + e];
    s[j] = dot * scale + bias[j];
    mx = std::max(mx, s[j]);
  }
  std::vector<double> acc(d, 0.0);
  for (int64_t j = 0; j < n_keys; ++j) {
    if (!visible[j]) continue;
    const double w = std::exp(s[j] - mx);
    sum += w;
    for (int e = 0; e < d; ++e) acc[e] += w * v[j * stride + e];
  }
  for (int e = 0; e < d; ++e) out[e] = static_cast<float>(acc[e] / sum);
}

// Head layouts that take every path of the kernels: head_dim 8 (portable kernel), 64 (AVX-512,
// groups of 3), 80 (a partial 64-dim chunk) with a group of 6 (4 + 2 heads per value pass).
TEST(CachedAttentionOp, GqaWindowMaskAlibiMatchReference) {
  ThreadPool pool(2);
  CpuBackend cpu(pool);
  struct Heads { int hq, hkv, d; };
  for (Heads hs : {Heads{4, 2, 8}, Heads{12, 4, 64}, Heads{6, 1, 80}}) {
  const int hq = hs.hq, hkv = hs.hkv, d = hs.d;
  const int64_t batch = 2, cap = 40, past = 29, n = 3, kv_len = past + n;
  const int64_t kw = hkv * d, qstride = hq * d + 2 * kw;
  std::vector<float> q = test::RandomFloats(batch * n * qstride, 2), k = test::RandomFloats(batch * cap * kw, 3), v = test::RandomFloats(batch * cap * kw, 4);
  std::vector<uint8_t> mask(batch * cap, 1);
  mask[cap + 0] = mask[cap + 1] = 0;  // row 1 is left-padded by two
  std::vector<float> slopes(hq), key_pos(batch * cap);
  for (int h = 0; h < hq; ++h) slopes[h] = 0.5f / static_cast<float>(1 << (h % 5));
  for (int64_t i = 0; i < batch * cap; ++i) key_pos[i] = static_cast<float>(i % cap);
  for (bool alibi : {false, true}) {
    for (int window : {0, 3, 20}) {
      CachedAttentionArgs a;
      a.q = Tensor::Wrap(DType::kF32, {batch, n, qstride}, q.data(), nullptr).Columns(0, hq * d);
      a.k = Tensor::Wrap(DType::kF32, {batch, cap, kw}, k.data(), nullptr);
      a.v = Tensor::Wrap(DType::kF32, {batch, cap, kw}, v.data(), nullptr);
      a.kv_len = kv_len;
      a.allowed = Tensor::Wrap(DType::kU8, {batch, cap}, mask.data(), nullptr);
      if (alibi) {
        a.alibi_slopes = Tensor::Wrap(DType::kF32, {hq}, slopes.data(), nullptr);
        a.key_positions = Tensor::Wrap(DType::kF32, {batch, cap}, key_pos.data(), nullptr);
      }
      AttentionParams p;
      p.num_heads = hq, p.num_kv_heads = hkv, p.head_dim = d, p.scale = 0.3f, p.causal = true, p.sliding_window = window;
      p.query_offset = past;
      Tensor out = Tensor::Zeros(DType::kF32, {batch, n, hq * d}).value();
      ASSERT_TRUE(cpu.CachedAttention(a, p, out).ok());
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t i = 0; i < n; ++i) {
          for (int h = 0; h < hq; ++h) {
            const int64_t pos = past + i;
            std::vector<bool> visible(kv_len);
            std::vector<float> bias(kv_len, 0.0f);
            for (int64_t j = 0; j < kv_len; ++j) {
              visible[j] = j <= pos && mask[b * cap + j] && (window == 0 || j > pos - window);
              if (alibi) bias[j] = slopes[h] * key_pos[b * cap + j];
            }
            std::vector<float> ref(d);
            const int kh = h / (hq / hkv);
            ReferenceRow(q.data() + (b * n + i) * qstride + h * d, k.data() + b * cap * kw + kh * d,
                         v.data() + b * cap * kw + kh * d, kw, kv_len, visible, bias, d, 0.3f, ref.data());
            for (int e = 0; e < d; ++e) {
              ASSERT_NEAR(out.data<float>()[(b * n + i) * hq * d + h * d + e], ref[e], 1e-5)
                  << "d" << d << " b" << b << " i" << i << " h" << h << " alibi " << alibi << " window " << window;
            }
          }
        }
      }
    }
  }
  }
}

TEST(GatedActivationOp, SiluGateTimesUp) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  const int64_t rows = 3, f = 37;
  std::vector<float> gu = test::RandomFloats(rows * 2 * f, 5);
  Tensor in = Tensor::Wrap(DType::kF32, {rows, 2 * f}, gu.data(), nullptr);
  Tensor out = Tensor::Zeros(DType::kF32, {rows, f}).value();
  ASSERT_TRUE(cpu.GatedActivation(in, Activation::kSilu, out).ok());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < f; ++i) {
      const float g = gu[r * 2 * f + i], u = gu[r * 2 * f + f + i];
      EXPECT_NEAR(out.data<float>()[r * f + i], g / (1 + std::exp(-g)) * u, 1e-5);
    }
  }
  Tensor bad = Tensor::Zeros(DType::kF32, {rows, f + 1}).value();
  EXPECT_FALSE(cpu.GatedActivation(in, Activation::kSilu, bad).ok());
}

TEST(RopeScaling, Llama3AndLinearAndDynamic) {
  auto cfg = HfConfig::Parse(R"({"rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})", "cfg");
  ASSERT_TRUE(cfg.ok());
  auto r = decoder::RopeFromConfig(*cfg, 64, 131072);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto inv = decoder::RopeInvFreq(*r, 10);
  // High frequencies (short wavelengths) are untouched, the lowest are divided by the factor.
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  const float plain_last = 1.0f / static_cast<float>(std::pow(500000.0, 62.0 / 64.0));
  EXPECT_NEAR(inv[31], plain_last / 8.0f, plain_last * 1e-5);

  auto lin = HfConfig::Parse(R"({"rope_scaling": {"type": "linear", "factor": 4.0}})", "cfg");
  auto rl = decoder::RopeFromConfig(*lin, 16, 64);
  ASSERT_TRUE(rl.ok());
  EXPECT_FLOAT_EQ(decoder::RopeInvFreq(*rl, 1)[0], 0.25f);

  auto dyn = HfConfig::Parse(R"({"rope_scaling": {"type": "dynamic", "factor": 2.0}})", "cfg");
  auto rd = decoder::RopeFromConfig(*dyn, 16, 64);
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(decoder::RopeInvFreq(*rd, 64), decoder::RopeInvFreq(*rd, 10));  // inside the context: unchanged
  EXPECT_LT(decoder::RopeInvFreq(*rd, 128)[1], decoder::RopeInvFreq(*rd, 64)[1]);  // beyond: larger base

  auto bad = HfConfig::Parse(R"({"rope_scaling": {"type": "longrope", "factor": 2.0}})", "cfg");
  auto rb = decoder::RopeFromConfig(*bad, 16, 64);
  ASSERT_FALSE(rb.ok());
  EXPECT_NE(rb.status().message().find("longrope"), std::string::npos);
}

TEST(KvCache, PositionsFromMaskOverflowAndReuse) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  auto c = decoder::KvCache::Create(ex, 2, 2, 6, 8);
  ASSERT_TRUE(c.ok());
  decoder::KvCache& cache = **c;
  EXPECT_GE(cache.bytes(), 2u * 2 * 2 * 6 * 8 * sizeof(float));
  ASSERT_TRUE(cache.Append(4, {1, 1, 1, 1, 0, 0, 1, 1}).ok());
  cache.CommitStep();
  EXPECT_EQ(cache.positions(0, 0)[3], 3);
  EXPECT_EQ(cache.positions(1, 0)[2], 0);  // first real token of the padded row
  EXPECT_EQ(cache.positions(1, 0)[3], 1);
  auto full = cache.Append(3, std::vector<uint8_t>(6, 1));
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.message().find("KV cache limit"), std::string::npos);
  cache.Reset();
  EXPECT_EQ(cache.length(), 0);
  EXPECT_TRUE(cache.Fits(2, 6, 8, 2));
  EXPECT_TRUE(cache.Append(6, std::vector<uint8_t>(12, 1)).ok());
}

TEST(Alibi, SlopesForPowerOfTwoAndOtherHeadCounts) {
  auto s4 = decoder::AlibiSlopes(4);
  ASSERT_EQ(s4.size(), 4u);
  EXPECT_FLOAT_EQ(s4[0], 0.25f);
  EXPECT_FLOAT_EQ(s4[3], 1.0f / 256);
  auto s6 = decoder::AlibiSlopes(6);
  ASSERT_EQ(s6.size(), 6u);
  EXPECT_FLOAT_EQ(s6[4], std::pow(2.0f, -1.0f));  // 2^(-8/8 * 1) from the 8-head sequence
}

}  // namespace
}  // namespace accel
