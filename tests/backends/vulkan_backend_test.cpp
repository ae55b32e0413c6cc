// Every op of the Vulkan backend against the CPU backend, on awkward shapes (one row, sizes that
// are not multiples of the tiles, strided views). Skips, saying why, where no Vulkan device exists
// (or the build has no Vulkan backend). On CI the device is Mesa's lavapipe.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "formats/quant.h"
#include "graph/exec.h"
#include "runtime/devices.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

class VulkanBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("ACCEL_VULKAN_GEMV_ROWS", "8", 1);  // the decode-size Linear kernel too, also on lavapipe
    auto b = CreateBackend("vulkan");
    if (b.ok()) {
      backend_ = std::move(*b).release();
    } else {
      reason_ = b.status().message();
    }
  }
  static void TearDownTestSuite() {
    delete backend_;
    backend_ = nullptr;
  }
  void SetUp() override {
    if (!backend_) GTEST_SKIP() << "no Vulkan device: " << reason_;
  }

  Backend& vk() { return *backend_; }
  Backend& cpu() { return HostBackend(); }

  Tensor Up(const Tensor& host) {
    Tensor d = vk().Allocate(host.dtype(), host.shape()).value();
    EXPECT_TRUE(vk().Upload(host, d).ok());
    return d;
  }
  Tensor Down(const Tensor& dev) {
    Tensor h = Tensor::Zeros(dev.dtype(), dev.shape()).value();
    Status s = vk().Download(dev, h);
    EXPECT_TRUE(s.ok()) << s.message();
    return h;
  }
  static void ExpectNear(const Tensor& want, const Tensor& got, float tol = 2e-5f) {
    ASSERT_EQ(want.shape(), got.shape());
    Tensor w = want.Clone(), g = got.Clone();
    for (size_t i = 0; i < w.numel(); ++i) {
      const float a = w.data<float>()[i], b = g.data<float>()[i];
      ASSERT_NEAR(a, b, tol * (1.0f + std::fabs(a))) << "element " << i;
    }
  }

  // Linear on the device with weights `w_device` equals the CPU's f32 Linear with `w_cpu`.
  void ExpectLinearAsOnTheCpu(const Tensor& x, const Tensor& w_cpu, const Tensor& w_device, const Tensor* bias, Activation act) {
    const int64_t m = x.dim(0), n = w_cpu.dim(0);
    Tensor want = Tensor::Zeros(DType::kF32, {m, n}).value();
    ASSERT_TRUE(cpu().Linear(x, cpu().PackLinear(w_cpu, DType::kF32).value(), bias, act, want).ok());
    auto pv = vk().PackLinear(w_device, DType::kF32);
    ASSERT_TRUE(pv.ok()) << pv.status().message();
    Tensor y = vk().Allocate(DType::kF32, {m, n}).value();
    Status s = vk().Linear(Up(x), *pv, bias, act, y);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectNear(want, Down(y), 1e-4f);
  }

  static Backend* backend_;
  static std::string reason_;
};
Backend* VulkanBackendTest::backend_ = nullptr;
std::string VulkanBackendTest::reason_;

TEST_F(VulkanBackendTest, LinearWithBiasAndActivation) {
  struct Case { int64_t m, k, n; Activation act; bool bias; };
  for (const Case& c : {Case{1, 7, 5, Activation::kNone, false}, Case{17, 33, 19, Activation::kGeluErf, true},
                        Case{3, 64, 48, Activation::kSilu, true}, Case{40, 16, 1, Activation::kGeluTanh, true},
                        Case{5, 20, 30, Activation::kQuickGelu, false}, Case{2, 9, 11, Activation::kRelu, true},
                        Case{33, 31, 17, Activation::kTanh, true}, Case{8, 300, 7, Activation::kNone, true},
                        Case{9, 129, 130, Activation::kSilu, false}, Case{130, 70, 200, Activation::kGeluErf, true}}) {
    SCOPED_TRACE(std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n));
    Tensor x = Random({c.m, c.k}, 1), w = Random({c.n, c.k}, 2), bias = Random({c.n}, 3);
    ExpectLinearAsOnTheCpu(x, w, w, c.bias ? &bias : nullptr, c.act);
  }
}

TEST_F(VulkanBackendTest, LinearWidensHalfWeights) {
  Tensor w32 = Random({13, 24}, 4);
  Tensor w16 = Tensor::Zeros(DType::kF16, {13, 24}).value();
  // f16 round trip through ToF32 keeps both backends on the same widened values.
  auto widened = [&] {
    Tensor t = Tensor::Zeros(DType::kF16, {13, 24}).value();
    for (size_t i = 0; i < t.numel(); ++i) {
      _Float16 h = static_cast<_Float16>(w32.data<float>()[i]);
      std::memcpy(t.data<uint16_t>() + i, &h, 2);
    }
    return t;
  };
  w16 = widened();
  Tensor x = Random({3, 24}, 5);
  Tensor want = Tensor::Zeros(DType::kF32, {3, 13}).value();
  ASSERT_TRUE(cpu().Linear(x, cpu().PackLinear(w16.ToF32().value(), DType::kF32).value(), nullptr, Activation::kNone, want).ok());
  Tensor y = vk().Allocate(DType::kF32, {3, 13}).value();
  ASSERT_TRUE(vk().Linear(Up(x), vk().PackLinear(w16, DType::kF32).value(), nullptr, Activation::kNone, y).ok());
  ExpectNear(want, Down(y), 1e-4f);
}

// Q8_0 and Q4_0 weights stay in blocks on the device (split into words and scales); the result
// equals f32 arithmetic on the dequantized weights, for decode rows and for prefill-sized M.
TEST_F(VulkanBackendTest, LinearOnQ8_0AndQ4_0BlocksMatchesTheDequantizedWeights) {
  struct Case { int64_t m, k, n; Activation act; bool bias; };
  for (DType format : {DType::kQ8_0, DType::kQ4_0}) {
    for (const Case& c : {Case{1, 32, 5, Activation::kNone, false}, Case{3, 96, 33, Activation::kSilu, true},
                          Case{8, 256, 17, Activation::kNone, true}, Case{19, 64, 70, Activation::kGeluErf, false},
                          Case{2, 4096, 3, Activation::kNone, false}}) {
      SCOPED_TRACE(std::string(Name(format)) + " " + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n));
      Tensor x = Random({c.m, c.k}, 11), bias = Random({c.n}, 13);
      Tensor w = quant::Quantize(Random({c.n, c.k}, 12), format).value();
      ExpectLinearAsOnTheCpu(x, quant::ToF32(w).value(), w, c.bias ? &bias : nullptr, c.act);
    }
  }
}

TEST_F(VulkanBackendTest, NormsOnStridedViews) {
  for (int64_t rows : {1, 5}) {
    for (int64_t n : {1, 7, 130, 300}) {
      SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(n));
      Tensor wide = Random({rows, n + 3}, 6, 2.0f), g = Random({n}, 7), b = Random({n}, 8);
      Tensor x = wide.Columns(1, n + 1);
      Tensor want = Tensor::Zeros(DType::kF32, {rows, n}).value();
      ASSERT_TRUE(cpu().LayerNorm(x, g, &b, 1e-5f, want).ok());
      Tensor dwide = Up(wide);
      Tensor dx = dwide.Columns(1, n + 1);
      Tensor y = vk().Allocate(DType::kF32, {rows, n}).value();
      ASSERT_TRUE(vk().LayerNorm(dx, g, &b, 1e-5f, y).ok());
      ExpectNear(want, Down(y), 1e-4f);
      ASSERT_TRUE(cpu().LayerNorm(x, g, nullptr, 1e-5f, want).ok());
      ASSERT_TRUE(vk().LayerNorm(dx, g, nullptr, 1e-5f, y).ok());
      ExpectNear(want, Down(y), 1e-4f);
      ASSERT_TRUE(cpu().RmsNorm(x, g, 1e-6f, want).ok());
      ASSERT_TRUE(vk().RmsNorm(dx, g, 1e-6f, y).ok());
      ExpectNear(want, Down(y), 1e-4f);
      // In place, into the strided view itself.
      Tensor host_wide = wide.Clone();
      Tensor hx = host_wide.Columns(1, n + 1);
      ASSERT_TRUE(cpu().RmsNorm(hx, g, 1e-6f, hx).ok());
      ASSERT_TRUE(vk().RmsNorm(dx, g, 1e-6f, dx).ok());
      ExpectNear(host_wide, Down(dwide), 1e-4f);
    }
  }
}

TEST_F(VulkanBackendTest, GroupWiseRmsNorm) {
  Tensor x = Random({3, 4 * 12}, 9), g = Random({12}, 10);
  Tensor want = Tensor::Zeros(DType::kF32, {3, 48}).value();
  ASSERT_TRUE(cpu().RmsNorm(x, g, 1e-6f, want).ok());
  Tensor y = vk().Allocate(DType::kF32, {3, 48}).value();
  ASSERT_TRUE(vk().RmsNorm(Up(x), g, 1e-6f, y).ok());
  ExpectNear(want, Down(y), 1e-4f);
}

TEST_F(VulkanBackendTest, ElementwiseOps) {
  for (int64_t n : {1, 255, 1000}) {
    SCOPED_TRACE(n);
    Tensor a = Random({3, n}, 11, 4.0f), b = Random({3, n}, 12), row = Random({n}, 13);
    for (Activation act : {Activation::kGeluErf, Activation::kGeluTanh, Activation::kQuickGelu, Activation::kSilu,
                           Activation::kRelu, Activation::kTanh}) {
      Tensor want = a.Clone();
      ASSERT_TRUE(cpu().Activate(act, want).ok());
      Tensor d = Up(a);
      ASSERT_TRUE(vk().Activate(act, d).ok());
      ExpectNear(want, Down(d), 1e-5f);
    }
    Tensor want = a.Clone();
    ASSERT_TRUE(cpu().Scale(want, 0.37f).ok());
    Tensor d = Up(a);
    ASSERT_TRUE(vk().Scale(d, 0.37f).ok());
    ExpectNear(want, Down(d));
    ASSERT_TRUE(cpu().Softmax(want).ok());
    ASSERT_TRUE(vk().Softmax(d).ok());
    ExpectNear(want, Down(d));
    Tensor y = vk().Allocate(DType::kF32, {3, n}).value();
    ASSERT_TRUE(cpu().Add(a, b, want).ok());
    ASSERT_TRUE(vk().Add(Up(a), Up(b), y).ok());
    ExpectNear(want, Down(y));
    ASSERT_TRUE(cpu().Add(a, row, want).ok());
    ASSERT_TRUE(vk().Add(Up(a), row, y).ok());  // a host constant, broadcast over rows
    ExpectNear(want, Down(y));
    ASSERT_TRUE(cpu().Mul(a, b, want).ok());
    ASSERT_TRUE(vk().Mul(Up(a), Up(b), y).ok());
    ExpectNear(want, Down(y));
    Tensor gu = Random({3, 2 * n}, 14, 3.0f);
    Tensor gw = Tensor::Zeros(DType::kF32, {3, n}).value();
    ASSERT_TRUE(cpu().GatedActivation(gu, Activation::kSilu, gw).ok());
    ASSERT_TRUE(vk().GatedActivation(Up(gu), Activation::kSilu, y).ok());
    ExpectNear(gw, Down(y), 1e-5f);
  }
}

TEST_F(VulkanBackendTest, EmbeddingAndBadIds) {
  Tensor table = Random({11, 7}, 15);
  for (DType dt : {DType::kI64, DType::kI32}) {
    Tensor ids = Tensor::Zeros(dt, {2, 3}).value();
    for (int i = 0; i < 6; ++i) {
      if (dt == DType::kI64) ids.data<int64_t>()[i] = (i * 4) % 11;
      else ids.data<int32_t>()[i] = (i * 4) % 11;
    }
    Tensor want = Tensor::Zeros(DType::kF32, {2, 3, 7}).value();
    ASSERT_TRUE(cpu().Embedding(table, ids, want).ok());
    Tensor y = vk().Allocate(DType::kF32, {2, 3, 7}).value();
    ASSERT_TRUE(vk().Embedding(table, Up(ids), y).ok());
    ExpectNear(want, Down(y), 0.0f);
    if (dt == DType::kI64) ids.data<int64_t>()[2] = 11;
    else ids.data<int32_t>()[2] = -1;
    Status s = vk().Embedding(table, Up(ids), y);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("outside the vocabulary"), std::string::npos) << s.message();
  }
}

TEST_F(VulkanBackendTest, StridedCopies) {
  Tensor src = Random({4, 10}, 16);
  Tensor dsrc = Up(src);
  Tensor ddst = vk().Allocate(DType::kF32, {4, 9}).value();
  // Columns 2..6 of src into columns 3..7 of dst, and a contiguous row slice.
  Tensor dv = ddst.Columns(3, 8);
  ASSERT_TRUE(vk().Copy(dsrc.Columns(2, 7), dv).ok());
  Tensor got = Down(ddst);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 9; ++c) {
      const float want = (c >= 3 && c < 8) ? src.data<float>()[r * 10 + c - 1] : 0.0f;
      ASSERT_EQ(want, got.data<float>()[r * 9 + c]) << r << "," << c;
    }
  }
  // Contiguous into strided (device and host sources): rows land at the view's stride.
  Tensor dense = Random({4, 5}, 30);
  Tensor ddense = Up(dense);
  Tensor ddst2 = vk().Allocate(DType::kF32, {4, 9}).value();
  Tensor v2 = ddst2.Columns(1, 6);
  ASSERT_TRUE(vk().Copy(ddense, v2).ok());
  Tensor ddst3 = vk().Allocate(DType::kF32, {4, 9}).value();
  Tensor v3 = ddst3.Columns(1, 6);
  ASSERT_TRUE(vk().Upload(dense, v3).ok());
  for (const Tensor* t : {&ddst2, &ddst3}) {
    Tensor h = Down(*t);
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 9; ++c) {
        const float want = (c >= 1 && c < 6) ? dense.data<float>()[r * 5 + c - 1] : 0.0f;
        ASSERT_EQ(want, h.data<float>()[r * 9 + c]) << r << "," << c;
      }
    }
  }
  Tensor rows = vk().Allocate(DType::kF32, {1, 10}).value();
  ASSERT_TRUE(vk().Copy(dsrc.SliceRows(3, 4), rows).ok());
  ExpectNear(src.SliceRows(3, 4), Down(rows), 0.0f);
  // Within one buffer, overlapping.
  Tensor big = Up(src);
  Tensor dst_rows = big.SliceRows(1, 4);
  ASSERT_TRUE(vk().Copy(big.SliceRows(0, 3), dst_rows).ok());
  Tensor after = Down(big);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(src.data<float>()[i], after.data<float>()[10 + i]);
  // u8 (the KV cache's allowed mask).
  Tensor m = Tensor::Zeros(DType::kU8, {2, 5}).value();
  for (int i = 0; i < 10; ++i) m.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7);
  Tensor dm = vk().Allocate(DType::kU8, {2, 5}).value();
  ASSERT_TRUE(vk().Copy(m, dm).ok());
  Tensor back = Down(dm);
  EXPECT_EQ(0, std::memcmp(back.data<uint8_t>(), m.data<uint8_t>(), 10));
}

TEST_F(VulkanBackendTest, Rope) {
  if (!vk().Supports(Op::kRope, DType::kF32)) GTEST_SKIP() << "device has no shaderFloat64";
  for (bool interleaved : {false, true}) {
    for (int rotary : {8, 4}) {
      Tensor x = Random({5, 3 * 8 + 5}, 17);
      Tensor pos = Tensor::Zeros(DType::kI64, {5}).value();
      for (int i = 0; i < 5; ++i) pos.data<int64_t>()[i] = 1000 * i + 3;
      std::vector<float> inv(rotary / 2);
      for (int i = 0; i < rotary / 2; ++i) inv[i] = std::pow(10000.0f, -2.0f * i / rotary);
      RopeParams p{3, 8, rotary, interleaved, inv, 1.1f};
      Tensor want = x.Clone();
      Tensor wv = want.Columns(0, 3 * 8 + 5);
      ASSERT_TRUE(cpu().Rope(wv, pos, p).ok());
      Tensor d = Up(x);
      Status s = vk().Rope(d, Up(pos), p);
      ASSERT_TRUE(s.ok()) << s.message();
      ExpectNear(want, Down(d), 1e-5f);
    }
  }
}

struct AttnCase {
  int64_t batch, q_len, kv_len;
  int heads, kv_heads, dim;
  bool causal;
  int window;
  bool mask;
};

TEST_F(VulkanBackendTest, AttentionVariants) {
  for (const AttnCase& c : {AttnCase{1, 1, 1, 1, 1, 4, false, 0, false}, AttnCase{2, 5, 5, 4, 2, 8, true, 0, true},
                            AttnCase{1, 9, 9, 2, 2, 5, true, 3, false}, AttnCase{2, 3, 7, 3, 1, 6, false, 0, true},
                            AttnCase{1, 17, 17, 4, 4, 16, true, 0, false}, AttnCase{1, 3, 300, 4, 4, 64, false, 0, true},
                            AttnCase{2, 70, 70, 3, 1, 40, true, 16, true}}) {
    SCOPED_TRACE(std::to_string(c.batch) + "/" + std::to_string(c.q_len) + "/" + std::to_string(c.kv_len));
    const int64_t qw = c.heads * c.dim, kw = c.kv_heads * c.dim;
    // q, k, v as column slices of one fused projection when the lengths agree.
    Tensor fused = Random({c.batch, c.q_len, qw + 2 * kw}, 18);
    Tensor kvf = Random({c.batch, c.kv_len, 2 * kw}, 19);
    const bool self = c.q_len == c.kv_len;
    Tensor q = fused.Columns(0, qw);
    Tensor k = self ? fused.Columns(qw, qw + kw) : kvf.Columns(0, kw);
    Tensor v = self ? fused.Columns(qw + kw, qw + 2 * kw) : kvf.Columns(kw, 2 * kw);
    Tensor mask = Tensor::Zeros(DType::kI64, {c.batch, c.kv_len}).value();
    for (int64_t i = 0; i < static_cast<int64_t>(mask.numel()); ++i) mask.data<int64_t>()[i] = (i % c.kv_len) < c.kv_len - 1 || i < c.kv_len;
    if (c.batch > 1) mask.data<int64_t>()[c.kv_len] = 0;
    AttentionParams p{c.heads, c.kv_heads, c.dim, 1.0f / std::sqrt(static_cast<float>(c.dim)), c.causal, c.window,
                      c.mask ? &mask : nullptr, 0};
    Tensor want = Tensor::Zeros(DType::kF32, {c.batch, c.q_len, qw}).value();
    ASSERT_TRUE(cpu().Attention(q, k, v, p, want).ok());
    Tensor dfused = Up(fused), dkvf = Up(kvf), dmask = Up(mask);
    Tensor dq = dfused.Columns(0, qw);
    Tensor dk = self ? dfused.Columns(qw, qw + kw) : dkvf.Columns(0, kw);
    Tensor dv = self ? dfused.Columns(qw + kw, qw + 2 * kw) : dkvf.Columns(kw, 2 * kw);
    AttentionParams dp = p;
    dp.key_padding_mask = c.mask ? &dmask : nullptr;
    Tensor y = vk().Allocate(DType::kF32, {c.batch, c.q_len, qw}).value();
    Status s = vk().Attention(dq, dk, dv, dp, y);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectNear(want, Down(y), 1e-4f);
    Tensor bias = Random({c.heads, c.q_len, c.kv_len}, 20);
    ASSERT_TRUE(cpu().AttentionWithBias(q, k, v, p, bias, want).ok());
    ASSERT_TRUE(vk().AttentionWithBias(dq, dk, dv, dp, Up(bias), y).ok());
    ExpectNear(want, Down(y), 1e-4f);
  }
}

TEST_F(VulkanBackendTest, CachedAttentionWithMaskAndAlibi) {
  const int64_t batch = 2, cap = 12, kv_len = 9, q_len = 3;
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    const int heads = 4, kv_heads = variant == 1 ? 4 : 2, dim = 6;
    Tensor k = Random({batch, cap, kv_heads * dim}, 21), v = Random({batch, cap, kv_heads * dim}, 22);
    Tensor qf = Random({batch, q_len, heads * dim + 5}, 23);
    Tensor q = qf.Columns(0, heads * dim);
    Tensor allowed = Tensor::Zeros(DType::kU8, {batch, cap}).value();
    for (int64_t i = 0; i < batch * cap; ++i) allowed.data<uint8_t>()[i] = (i % cap) != 1 || i < cap;
    Tensor slopes = Random({heads}, 24), kpos = Random({batch, cap}, 25, 8.0f);
    CachedAttentionArgs a{q, k, v, kv_len, allowed, variant == 2 ? slopes : Tensor(), variant == 2 ? kpos : Tensor()};
    AttentionParams p{heads, kv_heads, dim, 0.4f, true, variant == 1 ? 4 : 0, nullptr, kv_len - q_len};
    Tensor want = Tensor::Zeros(DType::kF32, {batch, q_len, heads * dim}).value();
    ASSERT_TRUE(cpu().CachedAttention(a, p, want).ok());
    Tensor dqf = Up(qf);
    CachedAttentionArgs da{dqf.Columns(0, heads * dim), Up(k), Up(v), kv_len, Up(allowed),
                           variant == 2 ? Up(slopes) : Tensor(), variant == 2 ? Up(kpos) : Tensor()};
    Tensor y = vk().Allocate(DType::kF32, {batch, q_len, heads * dim}).value();
    Status s = vk().CachedAttention(da, p, y);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectNear(want, Down(y), 1e-4f);
  }
}

TEST_F(VulkanBackendTest, Convolutions) {
  struct Case { int64_t b, cin, len, cout, k; int stride, pad, groups; };
  for (const Case& c : {Case{1, 3, 10, 4, 3, 1, 1, 1}, Case{2, 4, 9, 6, 3, 2, 1, 2}, Case{1, 8, 17, 8, 5, 1, 2, 8}}) {
    SCOPED_TRACE(std::to_string(c.cin) + "->" + std::to_string(c.cout));
    Tensor x = Random({c.b, c.cin, c.len}, 26), w = Random({c.cout, c.cin / c.groups, c.k}, 27), bias = Random({c.cout}, 28);
    const int64_t lout = (c.len + 2 * c.pad - c.k) / c.stride + 1;
    Tensor want = Tensor::Zeros(DType::kF32, {c.b, c.cout, lout}).value();
    ASSERT_TRUE(cpu().Conv1d(x, w, &bias, c.stride, c.pad, c.groups, want).ok());
    Tensor y = vk().Allocate(DType::kF32, {c.b, c.cout, lout}).value();
    Status s = vk().Conv1d(Up(x), w, &bias, c.stride, c.pad, c.groups, y);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectNear(want, Down(y), 1e-4f);
    // The same numbers as a 2-D image of height len and width 3.
    Tensor x2 = Random({c.b, c.cin, c.len, 3}, 29), w2 = Random({c.cout, c.cin / c.groups, c.k, c.k}, 30);
    const int64_t wo = (3 + 2 * c.pad - c.k) / c.stride + 1;
    if (wo <= 0) continue;
    Tensor want2 = Tensor::Zeros(DType::kF32, {c.b, c.cout, lout, wo}).value();
    ASSERT_TRUE(cpu().Conv2d(x2, w2, nullptr, c.stride, c.pad, c.groups, want2).ok());
    Tensor y2 = vk().Allocate(DType::kF32, {c.b, c.cout, lout, wo}).value();
    ASSERT_TRUE(vk().Conv2d(Up(x2), w2, nullptr, c.stride, c.pad, c.groups, y2).ok());
    ExpectNear(want2, Down(y2), 1e-4f);
  }
}

TEST_F(VulkanBackendTest, TransposeAndGroupNorm) {
  Tensor x = Random({2, 6, 13}, 31, 3.0f);
  Tensor want = Tensor::Zeros(DType::kF32, {2, 13, 6}).value();
  ASSERT_TRUE(cpu().TransposeLast2(x, want).ok());
  Tensor y = vk().Allocate(DType::kF32, {2, 13, 6}).value();
  ASSERT_TRUE(vk().TransposeLast2(Up(x), y).ok());
  ExpectNear(want, Down(y), 0.0f);
  Tensor g = Random({6}, 32), b = Random({6}, 33);
  for (int groups : {1, 3, 6}) {
    Tensor wn = Tensor::Zeros(DType::kF32, {2, 6, 13}).value();
    ASSERT_TRUE(cpu().GroupNorm(x, groups, g, groups == 3 ? nullptr : &b, 1e-5f, wn).ok());
    Tensor yn = vk().Allocate(DType::kF32, {2, 6, 13}).value();
    ASSERT_TRUE(vk().GroupNorm(Up(x), groups, g, groups == 3 ? nullptr : &b, 1e-5f, yn).ok());
    ExpectNear(wn, Down(yn), 1e-4f);
  }
}

TEST_F(VulkanBackendTest, ExecRunsNativeOpsOnTheDevice) {
  Arena arena(1 << 20, &vk().allocator());
  Exec ex(vk(), arena, &cpu());
  Tensor x = Random({1, 3, 10}, 26), w = Random({4, 3, 3}, 27);
  auto y = ex.Conv1d(x, w, nullptr, 1, 1, 1);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(y->device(), vk().device());
  Tensor want = Tensor::Zeros(DType::kF32, {1, 4, 10}).value();
  ASSERT_TRUE(cpu().Conv1d(x, w, nullptr, 1, 1, 1, want).ok());
  ExpectNear(want, ex.Download(*y).value(), 1e-5f);
  auto z = ex.Add(*y, *y);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(ex.stats().fallback_ops, 0);
  EXPECT_EQ(ex.stats().uploads, 1);
  // Not f32: not native, so it runs on the CPU with the copies counted.
  EXPECT_FALSE(vk().Supports(Op::kAdd, DType::kF16));
}

TEST(VulkanDevice, MissingDeviceIsOneUnsupportedLine) {
  auto b = CreateBackend("vulkan:99");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(b.status().message().find('\n'), std::string::npos);
  EXPECT_NE(b.status().message().find("vulkan"), std::string::npos) << b.status().message();
}

}  // namespace
}  // namespace accel
