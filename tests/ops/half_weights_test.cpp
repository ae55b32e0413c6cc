// f16 and bf16 weights under f32 arithmetic stay 16-bit in the packed panels ("avx512-f16w",
// "avx512-bf16w") and are widened exactly, so Linear must give the f32 kernels' results on the
// weights converted to f32 bit for bit: the GEMM runs the f32 tile on the widened slice, and
// the decode kernel keeps the f32 one's accumulation order. Odd M, N and K cover partial row
// blocks, partial panels, K blocks with a tail and more than one row chunk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/gemv.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "test_util.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f) { return test::RandomTensor(std::move(shape), seed, scale); }

// f32 -> f16 / bf16, with a few values that only f16 has (subnormals) or only bf16 (large).
Tensor To16(const Tensor& f, DType to) {
  Tensor t = Tensor::Zeros(to, f.shape()).value();
  for (size_t i = 0; i < f.numel(); ++i) {
    float v = f.data<float>()[i];
    if (i % 97 == 5) v *= to == DType::kF16 ? 1e-6f : 1e20f;
    t.data<uint16_t>()[i] = to == DType::kF16 ? F32ToF16(v) : F32ToBf16(v);
  }
  return t;
}

const cpu::PackedGemmWeight& Packed(const PackedLinear& l) { return *static_cast<const cpu::PackedGemmWeight*>(l.data.get()); }

struct Case {
  int64_t m, n, k;
};

::testing::AssertionResult SameBits(const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " vs " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

constexpr DType kHalf[] = {DType::kF16, DType::kBF16};

TEST(HalfWeights, PackingKeeps16BitsUnderF32Compute) {
  CpuBackend cpu(ThreadPool::Global());
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    const Tensor w = To16(Random({100, 37}, 1), dt);
    PackedLinear l = cpu.PackLinear(w, DType::kF32).value();
    const auto& p = Packed(l);
    EXPECT_EQ(p.kernel->dtype, dt);
    EXPECT_STREQ(p.kernel->name, dt == DType::kF16 ? "avx512-f16w" : "avx512-bf16w");
    EXPECT_EQ(p.elem_bytes(), 2u);
    EXPECT_EQ(p.buffer->size(), static_cast<size_t>(p.num_panels() * p.kernel->nr * 37 * 2));
    // Column j of panel q holds row q * nr + j of w as stored; the padding is zero.
    const uint16_t* panel = static_cast<const uint16_t*>(p.panel(1, 0));
    const int64_t nr = p.kernel->nr;
    for (int64_t kk = 0; kk < 37; ++kk) {
      for (int64_t j = 0; j < nr; ++j) {
        const int64_t row = nr + j;
        const uint16_t want = row < 100 ? w.data<uint16_t>()[row * 37 + kk] : 0;
        ASSERT_EQ(panel[kk * nr + j], want) << Name(dt) << " k=" << kk << " j=" << j;
      }
    }
    EXPECT_NE(cpu::FindGemvKernel(p), nullptr);
    // f32 weights and bf16 compute keep their kernels.
    EXPECT_STRNE(Packed(cpu.PackLinear(w.ToF32().value(), DType::kF32).value()).kernel->name, p.kernel->name);
    if (dt == DType::kBF16 && cpu::FindGemmKernel(DType::kBF16)) {
      EXPECT_STREQ(Packed(cpu.PackLinear(w, DType::kBF16).value()).kernel->name, "avx512-bf16");
    }
  }
}

// GEMM at every M (the decode path is bypassed by calling GemmPacked directly).
TEST(HalfWeights, GemmMatchesF32OnConvertedWeightsBitForBit) {
  CpuBackend cpu(ThreadPool::Global());
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    for (Case c : {Case{1, 1, 1}, Case{3, 47, 7}, Case{5, 48, 256}, Case{8, 49, 257}, Case{13, 97, 33}, Case{64, 130, 600},
                   Case{300, 50, 300}, Case{9, 2050, 65}}) {
      const Tensor w16 = To16(Random({c.n, c.k}, 2), dt);
      const Tensor w32 = w16.ToF32().value();
      const Tensor x = Random({c.m, c.k}, 3), b = Random({c.n}, 4);
      PackedLinear p16 = cpu.PackLinear(w16, DType::kF32).value(), p32 = cpu.PackLinear(w32, DType::kF32).value();
      ASSERT_TRUE(Packed(p16).kernel->widen);
      for (Activation act : {Activation::kNone, Activation::kSilu}) {
        std::vector<float> y16(c.m * c.n, 1.0f), y32(c.m * c.n, 2.0f);
        cpu::GemmPacked(x.data<float>(), c.m, c.k, Packed(p16), y16.data(), c.n, b.data<float>(), act, ThreadPool::Global());
        cpu::GemmPacked(x.data<float>(), c.m, c.k, Packed(p32), y32.data(), c.n, b.data<float>(), act, ThreadPool::Global());
        EXPECT_TRUE(SameBits(y16, y32)) << Name(dt) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
        // And the f32 result is the product (a widening bug that matched both would show here).
        if (act != Activation::kNone) continue;
        for (int64_t i = 0; i < c.m; i += 7) {
          for (int64_t j = 0; j < c.n; j += 5) {
            double acc = b.data<float>()[j], mag = std::fabs(acc);
            for (int64_t kk = 0; kk < c.k; ++kk) {
              const double t = double(x.data<float>()[i * c.k + kk]) * w32.data<float>()[j * c.k + kk];
              acc += t, mag += std::fabs(t);
            }
            ASSERT_NEAR(y16[i * c.n + j], acc, 1e-5 * mag + 1e-6) << Name(dt) << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

// The decode path (1..4 rows, strided x) against the f32 decode kernel on the converted weights,
// on one thread (whole weight per call) and three (split shares with
// prefetch, chunks taken from other shares).
TEST(HalfWeights, GemvMatchesF32OnConvertedWeightsBitForBit) {
  CpuBackend cpu(ThreadPool::Global());
  ThreadPool one(1), three(3);
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    for (Case c : {Case{1, 1, 1}, Case{1, 47, 7}, Case{2, 48, 64}, Case{3, 100, 513}, Case{4, 768, 96}, Case{1, 2050, 33},
                   Case{1, 4096, 1024}}) {
      const Tensor w16 = To16(Random({c.n, c.k}, 5), dt);
      const Tensor w32 = w16.ToF32().value();
      const int64_t ldx = c.k + 3;
      const Tensor x = Random({c.m, ldx}, 6), b = Random({c.n}, 7);
      PackedLinear p16 = cpu.PackLinear(w16, DType::kF32).value(), p32 = cpu.PackLinear(w32, DType::kF32).value();
      if (!cpu::FindGemvKernel(Packed(p32))) GTEST_SKIP() << "no matrix-vector kernel on this CPU";
      for (Activation act : {Activation::kNone, Activation::kGeluTanh}) {
        std::vector<float> y16(c.m * c.n, 1.0f), y16_split(c.m * c.n, 3.0f), y32(c.m * c.n, 2.0f);
        ASSERT_TRUE(cpu::GemvPacked(x.data<float>(), c.m, ldx, Packed(p16), y16.data(), c.n, b.data<float>(), act, one));
        ASSERT_TRUE(cpu::GemvPacked(x.data<float>(), c.m, ldx, Packed(p16), y16_split.data(), c.n, b.data<float>(), act,
                                    three));
        ASSERT_TRUE(cpu::GemvPacked(x.data<float>(), c.m, ldx, Packed(p32), y32.data(), c.n, b.data<float>(), act, one));
        EXPECT_TRUE(SameBits(y16, y32)) << Name(dt) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
        EXPECT_TRUE(SameBits(y16_split, y32)) << Name(dt) << " split, m=" << c.m << " n=" << c.n << " k=" << c.k;
        if (act != Activation::kNone) continue;
        for (int64_t i = 0; i < c.m; ++i) {
          for (int64_t j = 0; j < c.n; j += 3) {
            double acc = b.data<float>()[j], mag = std::fabs(acc);
            for (int64_t kk = 0; kk < c.k; ++kk) {
              const double t = double(x.data<float>()[i * ldx + kk]) * w32.data<float>()[j * c.k + kk];
              acc += t, mag += std::fabs(t);
            }
            ASSERT_NEAR(y16[i * c.n + j], acc, 1e-5 * mag + 1e-6) << Name(dt) << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

// Linear end to end at 1..6 rows (matrix-vector path up to 4, GEMM beyond), odd n and k.
TEST(HalfWeights, LinearMatchesF32AtEveryRowCount) {
  CpuBackend cpu(ThreadPool::Global());
  for (DType dt : kHalf) {
    if (!cpu::FindHalfStorageKernel(dt)) GTEST_SKIP() << "no 16-bit storage kernel on this CPU";
    const Tensor w16 = To16(Random({145, 99}, 8), dt), w32 = w16.ToF32().value();
    const Tensor b = Random({145}, 9);
    PackedLinear p16 = cpu.PackLinear(w16, DType::kF32).value(), p32 = cpu.PackLinear(w32, DType::kF32).value();
    for (int64_t m = 1; m <= 6; ++m) {
      const Tensor x = Random({m, 99}, 10 + static_cast<uint32_t>(m));
      Tensor y16 = Tensor::Zeros(DType::kF32, {m, 145}).value(), y32 = Tensor::Zeros(DType::kF32, {m, 145}).value();
      ASSERT_TRUE(cpu.Linear(x, p16, &b, Activation::kSilu, y16).ok());
      ASSERT_TRUE(cpu.Linear(x, p32, &b, Activation::kSilu, y32).ok());
      EXPECT_EQ(0, std::memcmp(y16.data<float>(), y32.data<float>(), y16.nbytes())) << Name(dt) << " m=" << m;
    }
  }
}

// What a CPU without the 16-bit kernels does: PackWeight converts the weight to f32 and packs it
// for the f32 kernel it has. Run here through each f32 kernel this CPU can execute; the result
// must be the packing of the converted weight, byte for byte.
TEST(HalfWeights, ConversionFallbackPacksTheF32Values) {
  const CpuFeatures& f = GetCpuFeatures();
  std::vector<const cpu::GemmKernel*> kernels = {&cpu::GemmKernelGenericF32()};
  if (f.avx2 && f.fma) kernels.push_back(&cpu::GemmKernelAvx2F32());
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl) kernels.push_back(&cpu::GemmKernelAvx512F32());
  for (DType dt : kHalf) {
    const Tensor w16 = To16(Random({70, 45}, 11), dt), w32 = w16.ToF32().value();
    const Tensor x = Random({5, 45}, 12);
    for (const cpu::GemmKernel* k : kernels) {
      auto p16 = cpu::PackWeightFor(w16, *k), p32 = cpu::PackWeightFor(w32, *k);
      ASSERT_TRUE(p16.ok() && p32.ok()) << k->name;
      EXPECT_EQ((*p16)->kernel, k);
      ASSERT_EQ((*p16)->buffer->size(), (*p32)->buffer->size());
      EXPECT_EQ(0, std::memcmp((*p16)->buffer->data(), (*p32)->buffer->data(), (*p16)->buffer->size()))
          << Name(dt) << " " << k->name;
      std::vector<float> y(5 * 70);
      cpu::GemmPacked(x.data<float>(), 5, 45, **p16, y.data(), 70, nullptr, Activation::kNone, ThreadPool::Global());
      for (int64_t j = 0; j < 70; j += 9) {
        double acc = 0, mag = 0;
        for (int64_t kk = 0; kk < 45; ++kk) {
          const double t = double(x.data<float>()[kk]) * w32.data<float>()[j * 45 + kk];
          acc += t, mag += std::fabs(t);
        }
        EXPECT_NEAR(y[j], acc, 1e-5 * mag + 1e-6) << Name(dt) << " " << k->name << " col " << j;
      }
    }
    // A widening kernel takes only its own dtype.
    if (cpu::FindHalfStorageKernel(dt)) {
      EXPECT_FALSE(cpu::PackWeightFor(w32, *cpu::FindHalfStorageKernel(dt)).ok());
    }
  }
}

}  // namespace
}  // namespace accel
