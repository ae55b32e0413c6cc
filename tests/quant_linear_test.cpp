// Quantized Linear (Q8_0, Q4_0) on the CPU backend, at decode and prefill row counts: it must
// compute what f32 Linear computes on the dequantized weights (within the int8 rounding of the
// activations), whichever path the row count selects.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
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
        // Activations are rounded to int8 per 32-block (scale max|x|/127): each product may be
        // off by |w| * scale / 2. That bound (times GELU's slope, at most 1.13) must hold.
        for (int64_t r = 0; r < m; ++r)
          for (int64_t j = 0; j < n; ++j) {
            double bound = 1e-4;
            for (int64_t b0 = 0; b0 < k; b0 += 32) {
              float amax = 0;
              for (int64_t i = b0; i < b0 + 32; ++i) amax = std::max(amax, std::fabs(x.data<float>()[r * k + i]));
              for (int64_t i = b0; i < b0 + 32; ++i) bound += std::fabs(wd->data<float>()[j * k + i]) * amax / 254.0;
            }
            ASSERT_NEAR(got.data<float>()[r * n + j], want.data<float>()[r * n + j], 1.13 * bound)
                << Name(dtype) << " m=" << m << " at " << r << "," << j;
          }
      }
    }
  }
}

}  // namespace
}  // namespace accel
