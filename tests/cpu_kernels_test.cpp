// Every CPU op against a straightforward scalar reference, at shapes that hit the SIMD
// kernels' edges (partial row blocks, partial panels, K not a multiple of the block).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/scalar_math.h"
#include "core/thread_pool.h"
#include "test_util.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f) { return test::RandomTensor(std::move(shape), seed, scale); }

class CpuOps : public ::testing::Test {
 protected:
  CpuBackend cpu{ThreadPool::Global()};
};

TEST_F(CpuOps, LinearMatchesNaiveAcrossEdgeShapes) {
  struct S { int64_t m, n, k; };
  for (S s : {S{1, 1, 1}, S{1, 768, 768}, S{13, 33, 7}, S{12, 32, 256}, S{25, 70, 300}, S{130, 96, 513}, S{3, 17, 1000}}) {
    Tensor x = Random({s.m, s.k}, 1), w = Random({s.n, s.k}, 2), b = Random({s.n}, 3);
    PackedLinear packed = cpu.PackLinear(w, DType::kF32).value();
    for (Activation act : {Activation::kNone, Activation::kGeluErf, Activation::kGeluTanh, Activation::kSilu, Activation::kQuickGelu, Activation::kRelu, Activation::kTanh}) {
      Tensor y = Tensor::Zeros(DType::kF32, {s.m, s.n}).value();
      ASSERT_TRUE(cpu.Linear(x, packed, &b, act, y).ok());
      for (int64_t i = 0; i < s.m; ++i) {
        for (int64_t j = 0; j < s.n; ++j) {
          double acc = b.data<float>()[j];
          for (int64_t kk = 0; kk < s.k; ++kk) acc += double(x.data<float>()[i * s.k + kk]) * w.data<float>()[j * s.k + kk];
          float want = cpu::ActivateScalar(act, static_cast<float>(acc));
          ASSERT_NEAR(y.data<float>()[i * s.n + j], want, 2e-5 * std::sqrt(double(s.k)) + 2e-6 * std::fabs(want))
              << "m=" << s.m << " n=" << s.n << " k=" << s.k << " act=" << int(act) << " isa=" << cpu::GemmIsa();
        }
      }
    }
  }
}

TEST_F(CpuOps, ActivationsMatchScalarOverWideRange) {
  Tensor x = Tensor::Zeros(DType::kF32, {1, 4001}).value();
  for (int i = 0; i < 4001; ++i) x.data<float>()[i] = -20.0f + 0.01f * i;
  for (Activation act : {Activation::kGeluErf, Activation::kGeluTanh, Activation::kSilu, Activation::kQuickGelu, Activation::kTanh}) {
    Tensor y = x.Clone();
    ASSERT_TRUE(cpu.Activate(act, y).ok());
    for (int i = 0; i < 4001; ++i) {
      float want = cpu::ActivateScalar(act, x.data<float>()[i]);
      ASSERT_NEAR(y.data<float>()[i], want, 1e-6 + 1e-6 * std::fabs(want)) << "act " << int(act) << " x=" << x.data<float>()[i];
    }
  }
}

TEST_F(CpuOps, LayerNormAndRmsNorm) {
  Tensor x = Random({5, 77}, 4, 3.0f), g = Random({77}, 5), b = Random({77}, 6);
  Tensor y = Tensor::Zeros(DType::kF32, {5, 77}).value(), r = y.Clone();
  ASSERT_TRUE(cpu.LayerNorm(x, g, &b, 1e-5f, y).ok());
  ASSERT_TRUE(cpu.RmsNorm(x, g, 1e-6f, r).ok());
  for (int i = 0; i < 5; ++i) {
    const float* row = x.data<float>() + i * 77;
    double mean = 0, var = 0, ss = 0;
    for (int j = 0; j < 77; ++j) mean += row[j];
    mean /= 77;
    for (int j = 0; j < 77; ++j) var += (row[j] - mean) * (row[j] - mean), ss += row[j] * row[j];
    var /= 77;
    for (int j = 0; j < 77; ++j) {
      EXPECT_NEAR(y.data<float>()[i * 77 + j], (row[j] - mean) / std::sqrt(var + 1e-5) * g.data<float>()[j] + b.data<float>()[j], 1e-5);
      EXPECT_NEAR(r.data<float>()[i * 77 + j], row[j] / std::sqrt(ss / 77 + 1e-6) * g.data<float>()[j], 1e-5);
    }
  }
}

// Naive attention with explicit masks, grouped heads, causal/sliding windows and offsets.
void NaiveAttention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t B, int64_t Sq, int64_t Skv, const AttentionParams& p,
                    const std::vector<int>& mask, std::vector<float>& out) {
  const int64_t D = p.head_dim, Hq = p.num_heads, Hkv = p.num_kv_heads;
  out.assign(B * Sq * Hq * D, 0.0f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        const int64_t kh = h / (Hq / Hkv), pos = p.query_offset + i;
        std::vector<double> s(Skv);
        std::vector<bool> ok(Skv);
        double mx = -1e300;
        bool any = false;
        for (int64_t j = 0; j < Skv; ++j) {
          ok[j] = (!p.causal || j <= pos) && (p.sliding_window == 0 || pos - j < p.sliding_window) && (mask.empty() || mask[b * Skv + j]);
          double d = 0;
          for (int64_t x = 0; x < D; ++x) d += double(q.data<float>()[(b * Sq + i) * Hq * D + h * D + x]) * k.data<float>()[(b * Skv + j) * Hkv * D + kh * D + x];
          s[j] = d * p.scale;
          if (ok[j]) mx = std::max(mx, s[j]), any = true;
        }
        double sum = 0;
        for (int64_t j = 0; j < Skv; ++j) s[j] = any ? (ok[j] ? std::exp(s[j] - mx) : 0.0) : 1.0, sum += s[j];
        for (int64_t j = 0; j < Skv; ++j)
          for (int64_t x = 0; x < D; ++x) out[(b * Sq + i) * Hq * D + h * D + x] += s[j] / sum * v.data<float>()[(b * Skv + j) * Hkv * D + kh * D + x];
      }
}

TEST_F(CpuOps, AttentionMatchesNaive) {
  // The later cases reach the 8-row register-tiled path with ragged key tails (not a multiple
  // of 48), head sizes that are not a multiple of 32, rows of one block seeing different key
  // ranges, and a sequence whose keys are all padding (HF's uniform-average rule).
  struct C { int64_t B, Sq, Skv, Hq, Hkv, D; bool causal; int window; int64_t offset; bool masked; bool blind = false; };
  for (C c : {C{2, 7, 7, 4, 4, 8, false, 0, 0, true}, C{1, 33, 33, 6, 2, 16, true, 0, 0, false}, C{2, 9, 9, 2, 1, 32, true, 4, 0, true},
              C{1, 1, 20, 4, 2, 8, true, 0, 19, false}, C{3, 5, 12, 2, 2, 4, true, 0, 7, true},
              C{2, 100, 100, 2, 2, 64, false, 0, 0, true}, C{1, 70, 70, 3, 1, 40, true, 16, 0, false},
              C{1, 17, 50, 2, 2, 80, true, 0, 33, true}, C{2, 20, 53, 2, 2, 24, false, 0, 0, true, true}}) {
    AttentionParams p;
    p.num_heads = c.Hq, p.num_kv_heads = c.Hkv, p.head_dim = c.D, p.scale = 1.0f / std::sqrt(float(c.D));
    p.causal = c.causal, p.sliding_window = c.window, p.query_offset = c.offset;
    Tensor q = Random({c.B, c.Sq, c.Hq * c.D}, 7), k = Random({c.B, c.Skv, c.Hkv * c.D}, 8), v = Random({c.B, c.Skv, c.Hkv * c.D}, 9);
    std::vector<int> mask;
    Tensor mask_t;
    if (c.masked) {
      mask_t = Tensor::Zeros(DType::kI64, {c.B, c.Skv}).value();
      for (int64_t b = 0; b < c.B; ++b)
        for (int64_t j = 0; j < c.Skv; ++j) {
          int on = j < c.Skv - b && !(c.blind && b == c.B - 1);  // right padding growing with b
          mask.push_back(on);
          mask_t.data<int64_t>()[b * c.Skv + j] = on;
        }
      p.key_padding_mask = &mask_t;
    }
    Tensor out = Tensor::Zeros(DType::kF32, {c.B, c.Sq, c.Hq * c.D}).value();
    ASSERT_TRUE(cpu.Attention(q, k, v, p, out).ok());
    std::vector<float> want;
    NaiveAttention(q, k, v, c.B, c.Sq, c.Skv, p, mask, want);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(out.data<float>()[i], want[i], 1e-5) << i;
  }
}

TEST_F(CpuOps, Conv1dAndConv2dMatchNaive) {
  Tensor x = Random({2, 4, 19}, 10), w = Random({6, 2, 3}, 11), b = Random({6}, 12);
  const int stride = 2, pad = 1, groups = 2;
  const int64_t lout = (19 + 2 * pad - 3) / stride + 1;
  Tensor y = Tensor::Zeros(DType::kF32, {2, 6, lout}).value();
  ASSERT_TRUE(cpu.Conv1d(x, w, &b, stride, pad, groups, y).ok());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t co = 0; co < 6; ++co)
      for (int64_t o = 0; o < lout; ++o) {
        double acc = b.data<float>()[co];
        int64_t g = co / 3;
        for (int64_t ci = 0; ci < 2; ++ci)
          for (int64_t kk = 0; kk < 3; ++kk) {
            int64_t pos = o * stride - pad + kk;
            if (pos >= 0 && pos < 19) acc += double(x.data<float>()[(n * 4 + g * 2 + ci) * 19 + pos]) * w.data<float>()[(co * 2 + ci) * 3 + kk];
          }
        ASSERT_NEAR(y.data<float>()[(n * 6 + co) * lout + o], acc, 1e-5);
      }
  Tensor x2 = Random({1, 3, 10, 9}, 13), w2 = Random({5, 3, 4, 4}, 14);
  Tensor y2 = Tensor::Zeros(DType::kF32, {1, 5, 2, 2}).value();
  ASSERT_TRUE(cpu.Conv2d(x2, w2, nullptr, 4, 0, 1, y2).ok());
  for (int64_t co = 0; co < 5; ++co)
    for (int64_t oh = 0; oh < 2; ++oh)
      for (int64_t ow = 0; ow < 2; ++ow) {
        double acc = 0;
        for (int64_t ci = 0; ci < 3; ++ci)
          for (int64_t kh = 0; kh < 4; ++kh)
            for (int64_t kw = 0; kw < 4; ++kw) acc += double(x2.data<float>()[(ci * 10 + oh * 4 + kh) * 9 + ow * 4 + kw]) * w2.data<float>()[((co * 3 + ci) * 4 + kh) * 4 + kw];
        ASSERT_NEAR(y2.data<float>()[(co * 2 + oh) * 2 + ow], acc, 1e-5);
      }
}

TEST_F(CpuOps, MaxPool2dMatchesNaive) {
  // ResNet's stem pool (3x3, stride 2, padding 1) on odd and even sizes, and one without padding.
  struct C { int64_t h, w; int kernel, stride, pad; };
  for (C c : {C{9, 8, 3, 2, 1}, C{7, 7, 2, 2, 0}, C{5, 6, 3, 1, 1}}) {
    Tensor x = Random({2, 3, c.h, c.w}, 16);
    const int64_t ho = (c.h + 2 * c.pad - c.kernel) / c.stride + 1, wo = (c.w + 2 * c.pad - c.kernel) / c.stride + 1;
    Tensor y = Tensor::Zeros(DType::kF32, {2, 3, ho, wo}).value();
    ASSERT_TRUE(cpu.MaxPool2d(x, c.kernel, c.stride, c.pad, y).ok());
    for (int64_t p = 0; p < 6; ++p)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          float want = -INFINITY;  // padding never wins: torch pads with -inf
          for (int i = 0; i < c.kernel; ++i)
            for (int j = 0; j < c.kernel; ++j) {
              const int64_t ih = oh * c.stride - c.pad + i, iw = ow * c.stride - c.pad + j;
              if (ih >= 0 && ih < c.h && iw >= 0 && iw < c.w) want = std::max(want, x.data<float>()[(p * c.h + ih) * c.w + iw]);
            }
          ASSERT_EQ(y.data<float>()[(p * ho + oh) * wo + ow], want) << c.h << "x" << c.w << " plane " << p;
        }
  }
  Tensor x = Random({1, 1, 4, 4}, 17), wrong = Tensor::Zeros(DType::kF32, {1, 1, 3, 3}).value();
  EXPECT_FALSE(cpu.MaxPool2d(x, 3, 2, 1, wrong).ok());  // the output is 2x2
  EXPECT_FALSE(cpu.MaxPool2d(x, 3, 2, 2, wrong).ok());  // padding over half the kernel
}

TEST_F(CpuOps, EmbeddingRejectsOutOfRangeIds) {
  Tensor table = Random({10, 4}, 15);
  Tensor ids = Tensor::Zeros(DType::kI64, {3}).value();
  ids.data<int64_t>()[1] = 10;
  Tensor out = Tensor::Zeros(DType::kF32, {3, 4}).value();
  Status s = cpu.Embedding(table, ids, out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("outside the vocabulary"), std::string::npos);
}

TEST(ThreadPool, RunsEveryTaskOnceAndNestsInline) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(1000);
  pool.Run(1000, [&](int64_t i) {
    hits[i]++;
    pool.Run(3, [&](int64_t) {});  // nested: runs inline, must not deadlock
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(12345, 7, [&](int64_t b, int64_t e) { total += e - b; });
  EXPECT_EQ(total.load(), 12345);
}

// Run returns as soon as its tasks are done, so workers often arrive late, holding a view of a
// job that has ended: back-to-back jobs of different sizes must still run every task of each
// job exactly once, with that job's function.
TEST(ThreadPool, BackToBackJobsOfDifferentSizesRunEachTaskOnce) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(8);
    for (int job = 0; job < 20000; ++job) {
      const int64_t n = 2 + job % 7;
      for (int64_t i = 0; i < n; ++i) hits[i].store(0, std::memory_order_relaxed);
      std::atomic<int> wrong{0};
      pool.Run(n, [&, job](int64_t i) {
        if (i < 0 || i >= n) wrong++;
        else hits[i].fetch_add(1, std::memory_order_relaxed);
        if (job % 1000 == 0) std::this_thread::yield();  // let a worker fall behind now and then
      });
      ASSERT_EQ(wrong.load(), 0) << "job " << job;
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "job " << job << " task " << i;
    }
  }
}

// Two models served side by side call the one pool from two threads at once: each job still
// runs every task once with its own function, and neither caller spins for ever (they used to,
// each waiting for tasks counted in the other's job).
TEST(ThreadPool, JobsFromSeveralOutsideThreadsTakeTurns) {
  ThreadPool pool(2);
  std::atomic<int> wrong{0}, ready{0};
  auto submitter = [&](int id) {
    ready++;
    while (ready.load() < 3) std::this_thread::yield();  // all three submit at once
    for (int job = 0; job < 20000; ++job) {
      const int64_t n = 2 + (job + id) % 5;
      std::vector<std::atomic<int>> hits(n);
      pool.Run(n, [&](int64_t i) {
        if (i < 0 || i >= n) wrong++;
        else hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i)
        if (hits[i].load() != 1) wrong++;
    }
  };
  std::thread a(submitter, 0), b(submitter, 1), c(submitter, 2);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {

TEST(CpuBf16, LinearMatchesF32WithinBf16Rounding) {
  CpuBackend cpu(ThreadPool::Global());
  struct S { int64_t m, n, k; };
  for (S s : {S{1, 40, 7}, S{13, 33, 9}, S{130, 96, 513}, S{25, 64, 384}}) {
    Tensor x = Tensor::Zeros(DType::kF32, {s.m, s.k}).value(), w = Tensor::Zeros(DType::kF32, {s.n, s.k}).value();
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> d(-1, 1);
    for (size_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
    for (size_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = d(rng);
    auto packed = cpu.PackLinear(w, DType::kBF16);
    if (!packed.ok()) GTEST_SKIP() << packed.status().message();
    Tensor y = Tensor::Zeros(DType::kF32, {s.m, s.n}).value();
    ASSERT_TRUE(cpu.Linear(x, *packed, nullptr, Activation::kNone, y).ok());
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double exact = 0, bound = 0;
        for (int64_t kk = 0; kk < s.k; ++kk) {
          exact += double(x.data<float>()[i * s.k + kk]) * w.data<float>()[j * s.k + kk];
          bound += std::fabs(x.data<float>()[i * s.k + kk] * w.data<float>()[j * s.k + kk]);
        }
        // each product carries at most two bf16 roundings (2^-8 relative each)
        ASSERT_NEAR(y.data<float>()[i * s.n + j], exact, bound * 2 * 0.0079 + 1e-5) << s.m << "x" << s.n << "x" << s.k;
      }
  }
}

// Every line of the next weight slice is prefetched exactly once, in order, in shares that
// differ by at most one line; nothing to prefetch gives a null pointer and no lines.
TEST(PrefetchSpread, CoversTheSliceOnceInEvenShares) {
  alignas(64) static char slice[64 * 100];
  for (int64_t lines : {1, 7, 64, 100}) {
    for (int64_t calls : {1, 3, 8, 150}) {
      cpu::PrefetchSpread pf(slice, lines * 64 + 63, calls);  // a partial last line is not fetched
      const char* expect = slice;
      int64_t total = 0;
      for (int64_t c = 0; c < calls; ++c, pf.advance()) {
        EXPECT_EQ(pf.at(), expect) << lines << " lines, call " << c << " of " << calls;
        EXPECT_GE(pf.lines(), lines / calls);
        EXPECT_LE(pf.lines(), (lines + calls - 1) / calls);
        expect += pf.lines() * 64;
        total += pf.lines();
      }
      EXPECT_EQ(total, lines) << lines << " lines over " << calls << " calls";
    }
  }
  for (cpu::PrefetchSpread none : {cpu::PrefetchSpread(nullptr, 4096, 4), cpu::PrefetchSpread(slice, 63, 4)}) {
    EXPECT_EQ(none.at(), nullptr);
    EXPECT_EQ(none.lines(), 0);
  }
}
}  // namespace
}  // namespace accel
