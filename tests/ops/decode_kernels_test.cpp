// The decode-path kernels against scalar references: the matrix-vector path of Linear (m <= 4
// rows on the GEMM's f32 / bf16 panels), and the integer kernels of quantized Linear (int8
// activations per block of 32 against Q8_0 / Q4_0 weights), SIMD and generic alike, at shapes
// with partial panels, partial 16-row groups and odd K.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/quant_gemm.h"
#include "backends/cpu/scalar_math.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "formats/quant.h"
#include "test_util.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f) { return test::RandomTensor(std::move(shape), seed, scale); }

float RoundBf16(float v) { return Bf16ToF32(F32ToBf16(v)); }

struct Case {
  int64_t m, n, k;
};

// f32 and bf16 panels, 1..4 rows: the matrix-vector path against double arithmetic on the
// operands the kernel multiplies (bf16: both rounded to bf16).
TEST(Gemv, MatchesScalarReferenceOnF32AndBf16Panels) {
  CpuBackend cpu(ThreadPool::Global());
  for (DType compute : {DType::kF32, DType::kBF16}) {
    for (Case c : {Case{1, 1, 1}, Case{1, 47, 7}, Case{2, 48, 64}, Case{3, 100, 513}, Case{4, 768, 96}, Case{1, 2050, 33}}) {
      Tensor x = Random({c.m, c.k}, 1), w = Random({c.n, c.k}, 2), b = Random({c.n}, 3);
      auto packed = cpu.PackLinear(w, compute);
      if (!packed.ok()) {
        ASSERT_EQ(compute, DType::kBF16) << packed.status().message();
        GTEST_SKIP() << "no bf16 GEMM on this CPU";
      }
      const auto& pw = *static_cast<const cpu::PackedGemmWeight*>(packed->data.get());
      if (!cpu::FindGemvKernel(pw)) GTEST_SKIP() << "no matrix-vector kernel on this CPU";
      for (Activation act : {Activation::kNone, Activation::kSilu}) {
        Tensor y = Tensor::Zeros(DType::kF32, {c.m, c.n}).value();
        ASSERT_TRUE(cpu.Linear(x, *packed, &b, act, y).ok());
        for (int64_t i = 0; i < c.m; ++i) {
          for (int64_t j = 0; j < c.n; ++j) {
            double acc = 0, mag = 0;
            for (int64_t kk = 0; kk < c.k; ++kk) {
              float xv = x.data<float>()[i * c.k + kk], wv = w.data<float>()[j * c.k + kk];
              if (compute == DType::kBF16) xv = RoundBf16(xv), wv = RoundBf16(wv);
              acc += double(xv) * wv;
              mag += std::fabs(double(xv) * wv);
            }
            const float want = cpu::ActivateScalar(act, static_cast<float>(acc + b.data<float>()[j]));
            ASSERT_NEAR(y.data<float>()[i * c.n + j], want, 1e-5 * mag + 1e-6)
                << Name(compute) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " row " << i << " col " << j;
          }
        }
      }
    }
  }
}

// Every panel (quantized: group) is computed whole by one call, so however the threads split
// and steal them (shares, front chunks, chunks taken from another share's back) the result is
// bit-identical to one thread's.
TEST(Gemv, ThreadSplitGivesBitIdenticalResults) {
  ThreadPool one(1), three(3);
  CpuBackend serial(one), parallel(three);
  for (DType compute : {DType::kF32, DType::kBF16}) {
    for (Case c : {Case{1, 3001, 700}, Case{3, 1000, 40}, Case{1, 97, 2}}) {
      Tensor x = Random({c.m, c.k}, 4), w = Random({c.n, c.k}, 5), b = Random({c.n}, 6);
      auto packed = serial.PackLinear(w, compute);
      if (!packed.ok()) GTEST_SKIP() << packed.status().message();
      if (!cpu::FindGemvKernel(*static_cast<const cpu::PackedGemmWeight*>(packed->data.get()))) GTEST_SKIP();
      for (int rep = 0; rep < 20; ++rep) {
        Tensor want = Tensor::Zeros(DType::kF32, {c.m, c.n}).value(), got = Tensor::Zeros(DType::kF32, {c.m, c.n}).value();
        ASSERT_TRUE(serial.Linear(x, *packed, &b, Activation::kSilu, want).ok());
        ASSERT_TRUE(parallel.Linear(x, *packed, &b, Activation::kSilu, got).ok());
        ASSERT_EQ(0, std::memcmp(want.data<float>(), got.data<float>(), want.nbytes()))
            << Name(compute) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
      }
    }
  }
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (Case c : {Case{1, 3001, 2048}, Case{2, 500, 64}}) {
      Tensor w = quant::Quantize(Random({c.n, c.k}, 7), t).value();
      Tensor x = Random({c.m, c.k}, 8), b = Random({c.n}, 9);
      PackedLinear pq = serial.PackLinear(w, t).value();
      for (int rep = 0; rep < 20; ++rep) {
        Tensor want = Tensor::Zeros(DType::kF32, {c.m, c.n}).value(), got = Tensor::Zeros(DType::kF32, {c.m, c.n}).value();
        ASSERT_TRUE(serial.Linear(x, pq, &b, Activation::kSilu, want).ok());
        ASSERT_TRUE(parallel.Linear(x, pq, &b, Activation::kSilu, got).ok());
        ASSERT_EQ(0, std::memcmp(want.data<float>(), got.data<float>(), want.nbytes())) << Name(t) << " n=" << c.n;
      }
    }
  }
}

// A row gives the same result through the matrix-vector path (alone) and the GEMM (in a batch).
TEST(Gemv, AgreesWithTheGemmOnTheSameRows) {
  CpuBackend cpu(ThreadPool::Global());
  const int64_t n = 200, k = 300, batch = 9;
  Tensor x = Random({batch, k}, 4), w = Random({n, k}, 5);
  PackedLinear packed = cpu.PackLinear(w, DType::kF32).value();
  Tensor all = Tensor::Zeros(DType::kF32, {batch, n}).value();
  ASSERT_TRUE(cpu.Linear(x, packed, nullptr, Activation::kNone, all).ok());
  Tensor one = Tensor::Zeros(DType::kF32, {1, n}).value();
  for (int64_t r : {0, 4, 8}) {
    Tensor row = Tensor::Wrap(DType::kF32, {1, k}, x.data<float>() + r * k, nullptr);
    ASSERT_TRUE(cpu.Linear(row, packed, nullptr, Activation::kNone, one).ok());
    for (int64_t j = 0; j < n; ++j) ASSERT_NEAR(one.data<float>()[j], all.data<float>()[r * n + j], 1e-4) << r << "," << j;
  }
}

std::vector<const cpu::QuantKernels*> QuantKernelSets() {
  std::vector<const cpu::QuantKernels*> k = {&cpu::QuantKernelsGeneric()};
  const CpuFeatures& f = GetCpuFeatures();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni) k.push_back(&cpu::QuantKernelsAvx512Vnni());
  return k;
}

// Activation quantization: d = max|x| / 127, q = round-to-even(x * 127 / max), s = sum(q); the
// SIMD quantizer produces exactly the scalar one's integers.
TEST(QuantGemm, ActivationQuantizationIsExactAndIdenticalAcrossKernels) {
  const int64_t rows = 3, k = 96, blocks = 3;
  Tensor x = Random({rows, k}, 6, 3.0f);
  x.data<float>()[5] = 0.0f;
  for (int i = 32; i < 64; ++i) x.data<float>()[i] = 0.0f;  // an all-zero block: d = 0, q = 0
  std::vector<std::vector<int8_t>> qs;
  for (const auto* kern : QuantKernelSets()) {
    std::vector<int8_t> q(rows * k);
    std::vector<float> d(rows * blocks);
    std::vector<int32_t> s(rows * blocks);
    kern->quantize(x.data<float>(), rows, k, k, q.data(), d.data(), s.data());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < blocks; ++b) {
        float amax = 0;
        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x.data<float>()[r * k + b * 32 + i]));
        EXPECT_FLOAT_EQ(d[r * blocks + b], amax / 127.0f) << kern->name;
        int32_t sum = 0;
        for (int i = 0; i < 32; ++i) {
          const float v = x.data<float>()[r * k + b * 32 + i];
          const int8_t qi = q[r * k + b * 32 + i];
          sum += qi;
          EXPECT_LE(std::fabs(qi * (amax / 127.0f) - v), amax / 254.0f * 1.0001f + 1e-7) << kern->name;
        }
        EXPECT_EQ(s[r * blocks + b], sum) << kern->name;
      }
    }
    qs.push_back(q);
  }
  for (size_t i = 1; i < qs.size(); ++i) EXPECT_EQ(qs[i], qs[0]);
}

// Every kernel set, straight on the packed layout: the result is the double-precision dot of the
// dequantized weights with the dequantized activations (only f32 rounding of the sum differs).
TEST(QuantGemm, KernelsMatchDequantizedReference) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (Case c : {Case{1, 16, 32}, Case{1, 40, 96}, Case{3, 33, 64}, Case{8, 16, 256}, Case{13, 50, 160}}) {
      const int64_t blocks = c.k / 32;
      Tensor w = quant::Quantize(Random({c.n, c.k}, 7), t).value();
      Tensor wf = quant::ToF32(w).value();
      std::vector<uint8_t> packed(cpu::PackedQuantBytes(t, c.n, c.k));
      cpu::PackQuantRows(t, w.raw(), c.n, c.k, packed.data());
      Tensor x = Random({c.m, c.k}, 8, 2.0f);
      std::vector<float> first;
      for (const auto* kern : QuantKernelSets()) {
        std::vector<int8_t> q(c.m * c.k);
        std::vector<float> d(c.m * blocks);
        std::vector<int32_t> s(c.m * blocks);
        kern->quantize(x.data<float>(), c.m, c.k, c.k, q.data(), d.data(), s.data());
        const cpu::QuantizedRows rows{q.data(), d.data(), s.data(), c.k, blocks};
        std::vector<float> y(c.m * c.n, -1.0f);
        const int64_t groups = (c.n + 15) / 16;
        (t == DType::kQ8_0 ? kern->q8_0 : kern->q4_0)(packed.data(), groups, rows, c.m, y.data(), c.n, c.n);
        for (int64_t i = 0; i < c.m; ++i) {
          for (int64_t j = 0; j < c.n; ++j) {
            double acc = 0, mag = 0;
            for (int64_t kk = 0; kk < c.k; ++kk) {
              const double xv = double(q[i * c.k + kk]) * d[i * blocks + kk / 32];
              acc += xv * wf.data<float>()[j * c.k + kk];
              mag += std::fabs(xv * wf.data<float>()[j * c.k + kk]);
            }
            ASSERT_NEAR(y[i * c.n + j], acc, 1e-5 * mag + 1e-6)
                << kern->name << " " << Name(t) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " at " << i << "," << j;
          }
        }
        if (first.empty()) first = y;
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], first[i], 1e-5 * (1 + std::fabs(first[i]))) << kern->name;
      }
    }
  }
}

// Through the backend (pack, quantize, threads, bias and activation epilogue): within the
// activation-quantization error of f32 Linear on the dequantized weights.
TEST(QuantGemm, BackendLinearTracksF32OnDequantizedWeights) {
  CpuBackend cpu(ThreadPool::Global());
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (Case c : {Case{1, 768, 768}, Case{5, 40, 64}, Case{64, 100, 256}}) {
      Tensor w = quant::Quantize(Random({c.n, c.k}, 9), t).value();
      Tensor wf = quant::ToF32(w).value();
      Tensor x = Random({c.m, c.k}, 10), b = Random({c.n}, 11);
      PackedLinear pq = cpu.PackLinear(w, t).value();
      Tensor y = Tensor::Zeros(DType::kF32, {c.m, c.n}).value();
      ASSERT_TRUE(cpu.Linear(x, pq, &b, Activation::kSilu, y).ok());
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          double acc = b.data<float>()[j], mag = 0;
          for (int64_t kk = 0; kk < c.k; ++kk) {
            acc += double(x.data<float>()[i * c.k + kk]) * wf.data<float>()[j * c.k + kk];
            mag += std::fabs(double(x.data<float>()[i * c.k + kk]) * wf.data<float>()[j * c.k + kk]);
          }
          // int8 activations: each |x| moves by at most max|x of its block| / 254 <= 1/254.
          const double dx = 1.0 / 254;
          double wsum = 0;
          for (int64_t kk = 0; kk < c.k; ++kk) wsum += std::fabs(wf.data<float>()[j * c.k + kk]);
          const float want = cpu::ActivateScalar(Activation::kSilu, static_cast<float>(acc));
          ASSERT_NEAR(y.data<float>()[i * c.n + j], want, 1.1 * (dx * wsum) + 1e-5 * mag + 1e-5)
              << Name(t) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace accel
