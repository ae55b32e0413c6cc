// Quantized Linear (Q8_0, Q4_0) on the CPU backend, at decode and prefill row counts: it must
// compute what f32 Linear computes on the dequantized weights, whichever path (row dot
// products or decoded GEMM panels) the row count selects; and both panel decoders must agree.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/quant_panel.h"
#include "core/thread_pool.h"
#include "formats/quant.h"

namespace accel {
namespace {

Tensor Random(Shape shape, uint32_t seed) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

TEST(QuantizedLinear, EqualsF32LinearOnDequantizedWeightsAtEveryRowCount) {
  CpuBackend cpu(ThreadPool::Global());
  // N not a multiple of the 48-column panel; K spanning two 256-wide k blocks plus a tail.
  const int64_t n = 101, k = 576;
  const Tensor w = Random({n, k}, 1), bias = Random({n}, 2);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    auto wq = quant::Quantize(w, dtype);
    ASSERT_TRUE(wq.ok()) << wq.status().message();
    auto wd = quant::ToF32(*wq);
    ASSERT_TRUE(wd.ok());
    auto packed_q = cpu.PackLinear(*wq, DType::kF32);
    auto packed_f = cpu.PackLinear(*wd, DType::kF32);
    ASSERT_TRUE(packed_q.ok() && packed_f.ok()) << packed_q.status().message();
    for (int64_t m : {1, 7, 16, 37, 200}) {
      const Tensor x = Random({m, k}, static_cast<uint32_t>(10 + m));
      Tensor got = Tensor::Zeros(DType::kF32, {m, n}).value(), want = Tensor::Zeros(DType::kF32, {m, n}).value();
      for (Activation act : {Activation::kNone, Activation::kGeluErf}) {
        ASSERT_TRUE(cpu.Linear(x, *packed_q, &bias, act, got).ok());
        ASSERT_TRUE(cpu.Linear(x, *packed_f, &bias, act, want).ok());
        for (size_t i = 0; i < want.numel(); ++i) {
          ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 2e-4 * (1 + std::fabs(want.data<float>()[i])))
              << Name(dtype) << " m=" << m << " at " << i;
        }
      }
    }
  }
}

TEST(QuantPanel, Avx512DecoderMatchesGeneric) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) GTEST_SKIP() << "no AVX-512";
  const int64_t n = 40, k = 96, nr = 48;  // 40 of 48 columns: the masked tail
  const Tensor w = Random({n, k}, 3);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    auto wq = quant::Quantize(w, dtype);
    ASSERT_TRUE(wq.ok());
    const size_t row_bytes = wq->nbytes() / n;
    const auto* rows = static_cast<const uint8_t*>(wq->raw());
    for (int64_t k0 : {0, 32}) {
      const int64_t kc = k - k0;
      alignas(64) float a[96 * 48], b[96 * 48];
      const auto& generic = cpu::QuantPanelGeneric();
      const auto& avx512 = cpu::QuantPanelAvx512();
      (dtype == DType::kQ8_0 ? generic.q8_0 : generic.q4_0)(rows, row_bytes, n, k0, kc, a, nr);
      (dtype == DType::kQ8_0 ? avx512.q8_0 : avx512.q4_0)(rows, row_bytes, n, k0, kc, b, nr);
      for (int64_t i = 0; i < kc * nr; ++i) ASSERT_EQ(a[i], b[i]) << Name(dtype) << " k0=" << k0 << " at " << i;
    }
  }
}

}  // namespace
}  // namespace accel
