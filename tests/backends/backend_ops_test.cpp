// One conformance test for every backend (llama.cpp's test-backend-ops, ONNX Runtime's
// OpTester): each op, with awkward shapes (one row, sizes off every tile, strided views, long
// key sequences), runs through Exec on every device this machine has and is compared with the
// CPU backend on the same inputs. The emulated device (the CPU behind a device boundary) is
// always present, so the device path — uploads, downloads, strided copies, the host fallback —
// runs on every CI machine; CUDA joins where a GPU is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "graph/exec.h"
#include "runtime/devices.h"
#include "test_util.h"

namespace accel {
namespace {

using test::RandomTensor;

std::vector<std::string> Devices() {
  std::vector<std::string> out;
  for (const char* d : {"emulated", "cuda", "vulkan"}) {
    auto b = CreateBackend(d);
    if (b.ok()) {
      out.push_back(d);
    } else {
      std::printf("backend_ops: skipping %s: %s\n", d, b.status().message().c_str());
    }
  }
  return out;
}

// Runs one op on the device under test and on the CPU with the same host inputs.
class BackendOps : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto b = CreateBackend(GetParam());
    ASSERT_TRUE(b.ok()) << b.status().message();
    device_ = std::move(b).value();
    arena_.SetAllocator(device_->allocator());
    ex_ = std::make_unique<Exec>(*device_, arena_, &HostBackend());
    host_ex_ = std::make_unique<Exec>(HostBackend(), host_arena_);
  }

  Tensor Up(const Tensor& host) { return ex_->Upload(host).value(); }
  Tensor Down(const Tensor& t) {
    auto h = ex_->Download(t);
    EXPECT_TRUE(h.ok()) << h.status().message();
    return h.ok() ? *h : Tensor();
  }

  // |got - want| <= tol * (1 + |want|) everywhere.
  static void ExpectClose(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
    ASSERT_EQ(got.shape(), want.shape()) << what;
    const Tensor g = got.Clone(), w = want.Clone();
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < w.numel(); ++i) {
      const double d = std::fabs(double(g.data<float>()[i]) - w.data<float>()[i]) / (1.0 + std::fabs(w.data<float>()[i]));
      if (!(d <= worst)) worst = d, at = i;
    }
    EXPECT_LE(worst, tol) << what << ": element " << at << " got " << g.data<float>()[at] << " want " << w.data<float>()[at];
  }

  std::unique_ptr<Backend> device_;
  Arena arena_, host_arena_;
  std::unique_ptr<Exec> ex_, host_ex_;
};

constexpr double kTol = 2e-5;

TEST_P(BackendOps, Linear) {
  struct C { int64_t m, k, n; };
  for (C c : {C{1, 7, 5}, C{3, 64, 33}, C{37, 129, 70}, C{130, 256, 96}}) {
    for (DType compute : {DType::kF32, DType::kBF16}) {
      for (Activation act : {Activation::kNone, Activation::kGeluErf, Activation::kSilu}) {
        for (bool with_bias : {false, true}) {
          Tensor w = RandomTensor({c.n, c.k}, 1, 0.2f), x = RandomTensor({c.m, c.k}, 2), b = RandomTensor({c.n}, 3);
          LinearLayer dev, host;
          dev.weight = device_->PackLinear(w, compute).value();
          auto hw = HostBackend().PackLinear(w, DType::kF32);
          ASSERT_TRUE(hw.ok());
          host.weight = *hw;
          if (with_bias) dev.bias = host.bias = b;
          auto y = ex_->Linear(Up(x), dev, act);
          ASSERT_TRUE(y.ok()) << y.status().message();
          // bf16 rounds x and W to 8 mantissa bits: ~k * 2^-8 relative error in the worst case.
          ExpectClose(Down(*y), host_ex_->Linear(x, host, act).value(), compute == DType::kF32 ? kTol : 3e-2,
                      "Linear " + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n));
        }
      }
    }
  }
}

TEST_P(BackendOps, NormsOnDenseAndStridedRows) {
  for (int64_t rows : {1, 5}) {
    for (int64_t n : {7, 771}) {
      Tensor x = RandomTensor({rows, n + 9}, 4), g = RandomTensor({n}, 5), b = RandomTensor({n}, 6);
      const Tensor view = Up(x).Columns(3, 3 + n), host_view = x.Columns(3, 3 + n);
      ExpectClose(Down(ex_->LayerNorm(view, g, &b, 1e-5f).value()), host_ex_->LayerNorm(host_view, g, &b, 1e-5f).value(), kTol,
                  "LayerNorm");
      ExpectClose(Down(ex_->LayerNorm(view, g, nullptr, 1e-6f).value()),
                  host_ex_->LayerNorm(host_view, g, nullptr, 1e-6f).value(), kTol, "LayerNorm without beta");
      ExpectClose(Down(ex_->RmsNorm(view, g, 1e-6f).value()), host_ex_->RmsNorm(host_view, g, 1e-6f).value(), kTol, "RmsNorm");
    }
  }
  // Per-head norm in place on a strided q slice (Qwen3's q_norm).
  Tensor qkv = RandomTensor({3, 4 * 8 + 16}, 7), g = RandomTensor({8}, 8);
  Tensor dev = Up(qkv), host = qkv.Clone();
  Tensor dq = dev.Columns(0, 32), hq = host.Columns(0, 32);
  ASSERT_TRUE(ex_->RmsNormInto(dq, g, 1e-6f, dq).ok());
  ASSERT_TRUE(host_ex_->RmsNormInto(hq, g, 1e-6f, hq).ok());
  ExpectClose(Down(dev), host, kTol, "group-wise RmsNorm in place");
}

TEST_P(BackendOps, ElementwiseOps) {
  for (int64_t n : {1, 13, 4099}) {
    Tensor a = RandomTensor({2, n}, 9, 3.0f), b = RandomTensor({2, n}, 10), row = RandomTensor({n}, 11);
    ExpectClose(Down(ex_->Add(Up(a), Up(b)).value()), host_ex_->Add(a, b).value(), kTol, "Add");
    ExpectClose(Down(ex_->Add(Up(a), row).value()), host_ex_->Add(a, row).value(), kTol, "Add broadcast over rows");
    Tensor dm = Up(a), hm = a.Clone();
    ASSERT_TRUE(ex_->MulInto(dm, Up(b), dm).ok());
    ASSERT_TRUE(host_ex_->MulInto(hm, b, hm).ok());
    ExpectClose(Down(dm), hm, kTol, "Mul");
    Tensor ds = Up(a), hs = a.Clone();
    ASSERT_TRUE(ex_->Scale(ds, 0.37f).ok());
    ASSERT_TRUE(host_ex_->Scale(hs, 0.37f).ok());
    ExpectClose(Down(ds), hs, kTol, "Scale");
    for (Activation act : {Activation::kGeluErf, Activation::kGeluTanh, Activation::kQuickGelu, Activation::kSilu,
                           Activation::kRelu, Activation::kTanh}) {
      Tensor d = Up(a), h = a.Clone();
      ASSERT_TRUE(ex_->Activate(act, d).ok());
      ASSERT_TRUE(host_ex_->Activate(act, h).ok());
      ExpectClose(Down(d), h, kTol, "Activate " + std::to_string(int(act)));
    }
    Tensor d = Up(a), h = a.Clone();
    ASSERT_TRUE(ex_->Softmax(d).ok());
    ASSERT_TRUE(host_ex_->Softmax(h).ok());
    ExpectClose(Down(d), h, kTol, "Softmax");
    Tensor gu = RandomTensor({3, 2 * n}, 12);
    ExpectClose(Down(ex_->GatedActivation(Up(gu), Activation::kSilu).value()),
                host_ex_->GatedActivation(gu, Activation::kSilu).value(), kTol, "GatedActivation");
  }
}

TEST_P(BackendOps, EmbeddingTransposeAndCopy) {
  Tensor table = RandomTensor({50, 19}, 13);
  for (DType dt : {DType::kI64, DType::kI32}) {
    Tensor ids = Tensor::Zeros(dt, {2, 3}).value();
    for (int i = 0; i < 6; ++i) {
      if (dt == DType::kI64) ids.data<int64_t>()[i] = (i * 17) % 50;
      else ids.data<int32_t>()[i] = (i * 17) % 50;
    }
    ExpectClose(Down(ex_->Embedding(table, ids).value()), host_ex_->Embedding(table, ids).value(), 0, "Embedding");
  }
  Tensor bad = Tensor::Zeros(DType::kI64, {1, 1}).value();
  bad.data<int64_t>()[0] = 50;
  EXPECT_FALSE(ex_->Embedding(table, bad).ok()) << "an id past the vocabulary must be an error";

  Tensor x = RandomTensor({2, 5, 7}, 14);
  ExpectClose(Down(ex_->TransposeLast2(Up(x)).value()), host_ex_->TransposeLast2(x).value(), 0, "TransposeLast2");
  // A strided column block copied into the middle rows of a dense tensor (a KV-cache append).
  Tensor src = RandomTensor({4, 12}, 15), dst = RandomTensor({6, 5}, 16);
  Tensor dsrc = Up(src), ddst = Up(dst);
  Tensor dslice = ddst.SliceRows(1, 5), hslice = dst.SliceRows(1, 5);
  ASSERT_TRUE(ex_->Copy(dsrc.Columns(4, 9), dslice).ok());
  ASSERT_TRUE(host_ex_->Copy(src.Columns(4, 9), hslice).ok());
  ExpectClose(Down(ddst), dst, 0, "strided Copy");
}

struct AttnCase {
  int64_t b, sq, skv;
  int hq, hkv, d;
  bool causal;
  int window;
  int64_t offset;
  bool masked;
};

TEST_P(BackendOps, AttentionOverFusedProjections) {
  for (AttnCase c : {AttnCase{1, 1, 1, 1, 1, 8, false, 0, 0, false}, AttnCase{2, 5, 5, 4, 2, 16, true, 0, 0, true},
                     AttnCase{1, 17, 50, 2, 2, 80, true, 0, 33, false}, AttnCase{2, 70, 70, 3, 1, 40, true, 16, 0, true},
                     AttnCase{1, 3, 1000, 4, 4, 64, false, 0, 0, true}}) {
    const int64_t qw = c.hq * c.d, kw = c.hkv * c.d;
    Tensor q = RandomTensor({c.b, c.sq, qw + 5}, 17), kv = RandomTensor({c.b, c.skv, 2 * kw}, 18);
    Tensor mask = Tensor::Zeros(DType::kI64, {c.b, c.skv}).value();
    for (int64_t b = 0; b < c.b; ++b)
      for (int64_t j = 0; j < c.skv; ++j) mask.data<int64_t>()[b * c.skv + j] = j < c.skv - 2 * b;  // right padding
    AttentionParams p;
    p.num_heads = c.hq, p.num_kv_heads = c.hkv, p.head_dim = c.d, p.scale = 1.0f / std::sqrt(float(c.d));
    p.causal = c.causal, p.sliding_window = c.window, p.query_offset = c.offset;
    p.key_padding_mask = c.masked ? &mask : nullptr;
    Tensor dq = Up(q), dkv = Up(kv);
    auto got = ex_->Attention(dq.Columns(0, qw), dkv.Columns(0, kw), dkv.Columns(kw, 2 * kw), p);
    ASSERT_TRUE(got.ok()) << got.status().message();
    auto want = host_ex_->Attention(q.Columns(0, qw), kv.Columns(0, kw), kv.Columns(kw, 2 * kw), p).value();
    ExpectClose(Down(*got), want, 1e-4, "Attention kv " + std::to_string(c.skv));
    if (c.hq == c.hkv) {
      Tensor bias = RandomTensor({c.hq, c.sq, c.skv}, 19);
      auto gb = ex_->AttentionWithBias(dq.Columns(0, qw), dkv.Columns(0, kw), dkv.Columns(kw, 2 * kw), p, Up(bias));
      ASSERT_TRUE(gb.ok()) << gb.status().message();
      ExpectClose(Down(*gb), host_ex_->AttentionWithBias(q.Columns(0, qw), kv.Columns(0, kw), kv.Columns(kw, 2 * kw), p, bias).value(),
                  1e-4, "AttentionWithBias");
    }
  }
}

TEST_P(BackendOps, CachedAttentionAndRope) {
  for (bool alibi : {false, true}) {
    for (int window : {0, 3}) {
      const int hq = 4, hkv = 2, d = 16;
      const int64_t batch = 2, cap = 40, n = 3, kv_len = 32, kw = hkv * d;
      Tensor q = RandomTensor({batch, n, hq * d}, 20), k = RandomTensor({batch, cap, kw}, 21), v = RandomTensor({batch, cap, kw}, 22);
      Tensor allowed = Tensor::Zeros(DType::kU8, {batch, cap}).value(), slopes = RandomTensor({hq}, 23);
      Tensor key_pos = Tensor::Zeros(DType::kF32, {batch, cap}).value();
      for (int64_t i = 0; i < batch * cap; ++i) {
        allowed.data<uint8_t>()[i] = !(i >= cap && i < cap + 2);  // row 1 is left-padded by two
        key_pos.data<float>()[i] = float(i % cap);
      }
      CachedAttentionArgs dev{Up(q), Up(k), Up(v), kv_len, Up(allowed), alibi ? slopes : Tensor(), alibi ? Up(key_pos) : Tensor()};
      CachedAttentionArgs host{q, k, v, kv_len, allowed, alibi ? slopes : Tensor(), alibi ? key_pos : Tensor()};
      AttentionParams p;
      p.num_heads = hq, p.num_kv_heads = hkv, p.head_dim = d, p.scale = 0.3f, p.causal = true, p.sliding_window = window;
      p.query_offset = kv_len - n;
      auto got = ex_->CachedAttention(dev, p);
      ASSERT_TRUE(got.ok()) << got.status().message();
      ExpectClose(Down(*got), host_ex_->CachedAttention(host, p).value(), 1e-4, "CachedAttention");
    }
  }
  const std::vector<float> inv = {1.0f, 0.1f, 0.01f};
  for (bool interleaved : {false, true}) {
    Tensor x = RandomTensor({5, 3 * 8 + 4}, 24);
    Tensor pos = Tensor::Zeros(DType::kI64, {5}).value();
    for (int i = 0; i < 5; ++i) pos.data<int64_t>()[i] = i * 7;
    RopeParams p{3, 8, 6, interleaved, inv, 1.0f};
    Tensor dx = Up(x), hx = x.Clone();
    Tensor dv = dx.Columns(0, 24), hv = hx.Columns(0, 24);
    ASSERT_TRUE(ex_->Rope(dv, Up(pos), p).ok());
    ASSERT_TRUE(host_ex_->Rope(hv, pos, p).ok());
    ExpectClose(Down(dx), hx, kTol, "Rope");
  }
}

TEST_P(BackendOps, ConvolutionsAndGroupNormRunWhereverTheyAre) {
  Tensor x = RandomTensor({2, 3, 20}, 25), w = RandomTensor({4, 3, 3}, 26), b = RandomTensor({4}, 27);
  ExpectClose(Down(ex_->Conv1d(Up(x), w, &b, 2, 1, 1).value()), host_ex_->Conv1d(x, w, &b, 2, 1, 1).value(), kTol, "Conv1d");
  Tensor img = RandomTensor({1, 3, 8, 8}, 28), k2 = RandomTensor({5, 3, 4, 4}, 29);
  ExpectClose(Down(ex_->Conv2d(Up(img), k2, nullptr, 4, 0, 1).value()), host_ex_->Conv2d(img, k2, nullptr, 4, 0, 1).value(), kTol,
              "Conv2d");
  Tensor g = RandomTensor({4}, 30);
  Tensor feats = RandomTensor({2, 4, 9}, 31);
  ExpectClose(Down(ex_->GroupNorm(Up(feats), 2, g, &b, 1e-5f).value()), host_ex_->GroupNorm(feats, 2, g, &b, 1e-5f).value(), kTol,
              "GroupNorm");
  // ResNet's stem: a strided, padded 7x7 convolution, then a 3x3/2 max pool with padding 1.
  Tensor pix = RandomTensor({2, 3, 13, 12}, 33), k7 = RandomTensor({4, 3, 7, 7}, 34);
  Tensor stem = Down(ex_->Conv2d(Up(pix), k7, &b, 2, 3, 1).value());
  ExpectClose(stem, host_ex_->Conv2d(pix, k7, &b, 2, 3, 1).value(), 1e-4, "Conv2d 7x7/2 pad 3");
  ExpectClose(Down(ex_->MaxPool2d(Up(stem), 3, 2, 1).value()), host_ex_->MaxPool2d(stem, 3, 2, 1).value(), 0, "MaxPool2d");
  // Whatever fell back was counted.
  for (Op op : {Op::kConv1d, Op::kConv2d, Op::kGroupNorm, Op::kMaxPool2d}) {
    if (!device_->Supports(op, DType::kF32)) {
      EXPECT_GT(ex_->stats().fallbacks_by_op[size_t(op)], 0) << OpName(op);
    }
  }
}

TEST_P(BackendOps, DeviceTensorsAreNotHostReadable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the process has worker threads (and maybe a GPU context)
  Tensor t = Up(RandomTensor({2, 2}, 32));
  EXPECT_FALSE(t.on_host());
  EXPECT_DEATH((void)t.data<float>(), "host access");
}

INSTANTIATE_TEST_SUITE_P(Devices, BackendOps, ::testing::ValuesIn(Devices()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace accel
