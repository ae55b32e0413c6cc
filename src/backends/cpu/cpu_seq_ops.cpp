// CPU implementations of the vision / audio operators (issue 5): TransposeLast2 and GroupNorm.
// They are memory-bound or small next to the GEMMs of the models that use them, so they are
// plain loops parallel over independent rows. (AttentionWithBias shares Attention's row kernels
// in cpu_backend.cpp.)
#include <algorithm>
#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/kernels.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel {

Status CpuBackend::TransposeLast2(const Tensor& x, Tensor& y) {
  if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || x.rank() < 2) return InvalidArgument("TransposeLast2 needs f32 [B, R, C]");
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t batch = rows * cols != 0 ? static_cast<int64_t>(x.numel()) / (rows * cols) : 0;
  if (y.numel() != x.numel() || y.dim(-1) != rows || y.dim(-2) != cols) {
    return InvalidArgument("TransposeLast2 output " + ShapeToString(y.shape()) + " for input " + ShapeToString(x.shape()));
  }
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  constexpr int64_t kTile = 32;  // rows per task; the tiles keep reads and writes in L1
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  static const bool avx512 = GetCpuFeatures().avx512f;
  pool_.ParallelFor(batch * row_tiles, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / row_tiles, r0 = (t % row_tiles) * kTile, r1 = std::min(rows, r0 + kTile);
      const float* xb = xp + b * rows * cols;
      float* yb = yp + b * rows * cols;
      if (avx512) {
        cpu::TransposeRowsAvx512(xb, rows, cols, r0, r1, yb);
        continue;
      }
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c) yb[c * rows + r] = xb[r * cols + c];
        }
      }
    }
  });
  return Status::Ok();
}

Status CpuBackend::GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) {
  if (x.rank() != 3 || x.dtype() != DType::kF32 || y.numel() != x.numel()) return InvalidArgument("GroupNorm needs f32 [B, C, L]");
  const int64_t batch = x.dim(0), channels = x.dim(1), len = x.dim(2);
  if (groups <= 0 || channels % groups != 0) return InvalidArgument("GroupNorm: " + std::to_string(channels) + " channels in " + std::to_string(groups) + " groups");
  if (static_cast<int64_t>(gamma.numel()) != channels || (beta && static_cast<int64_t>(beta->numel()) != channels)) {
    return InvalidArgument("GroupNorm weight size != channels " + std::to_string(channels));
  }
  const int64_t per_group = channels / groups;
  const float *xp = x.data<float>(), *g = gamma.data<float>(), *bt = beta ? beta->data<float>() : nullptr;
  float* yp = y.data<float>();
  pool_.ParallelFor(batch * groups, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / groups, grp = t % groups;
      const int64_t c0 = grp * per_group;
      const float* src = xp + (b * channels + c0) * len;
      float* dst = yp + (b * channels + c0) * len;
      const int64_t n = per_group * len;
      // Two passes in double: the mean first, then the centred variance (no cancellation).
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += src[i];
      const double mean = n ? sum / n : 0;
      double sq = 0;
      for (int64_t i = 0; i < n; ++i) sq += (src[i] - mean) * (src[i] - mean);
      const float inv = static_cast<float>(1.0 / std::sqrt((n ? sq / n : 0) + eps));
      for (int64_t c = 0; c < per_group; ++c) {
        const float scale = g[c0 + c] * inv, shift = bt ? bt[c0 + c] : 0.0f;
        const float m = static_cast<float>(mean);
        for (int64_t i = 0; i < len; ++i) dst[c * len + i] = (src[c * len + i] - m) * scale + shift;
      }
    }
  });
  return Status::Ok();
}

}  // namespace accel
