// The group layout (quant_gemm.h), the scalar kernels that define the arithmetic, and the
// run-time choice between them and the AVX512-VNNI ones.
#include "backends/cpu/quant_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/cpu_features.h"
#include "core/half.h"
#include "formats/quant.h"

namespace accel::cpu {

size_t QuantBlockBytes(DType t) { return (t == DType::kQ8_0 ? kQuantBlock : kQuantBlock / 2) * kQuantGroupRows; }

size_t PackedQuantBytes(DType t, int64_t n, int64_t k) {
  const int64_t groups = (n + kQuantGroupRows - 1) / kQuantGroupRows;
  return static_cast<size_t>(groups * (k / kQuantBlock)) * (QuantBlockBytes(t) + kQuantGroupRows * sizeof(uint16_t));
}

void PackQuantRows(DType t, const void* src, int64_t n, int64_t k, uint8_t* dst) {
  const int64_t blocks = k / kQuantBlock, groups = (n + kQuantGroupRows - 1) / kQuantGroupRows;
  const size_t qbytes = QuantBlockBytes(t), group_bytes = blocks * (qbytes + kQuantGroupRows * sizeof(uint16_t));
  std::memset(dst, 0, PackedQuantBytes(t, n, k));
  for (int64_t g = 0; g < groups; ++g) {
    uint8_t* group = dst + static_cast<size_t>(g) * group_bytes;
    for (int64_t b = 0; b < blocks; ++b) {
      uint16_t* scales = reinterpret_cast<uint16_t*>(group + QuantScalesOffset(qbytes, blocks, b));
      uint8_t* out = group + QuantIntsOffset(qbytes, blocks, b);
      for (int64_t i = 0; i < kQuantGroupRows && g * kQuantGroupRows + i < n; ++i) {
        const int64_t row = g * kQuantGroupRows + i;
        if (t == DType::kQ8_0) {
          const auto& blk = static_cast<const quant::BlockQ8_0*>(src)[row * blocks + b];
          scales[i] = blk.d;
          for (int j = 0; j < kQuantBlock; ++j) {
            out[(j / 4) * 64 + i * 4 + j % 4] = static_cast<uint8_t>(blk.qs[j] + 128);
          }
        } else {
          const auto& blk = static_cast<const quant::BlockQ4_0*>(src)[row * blocks + b];
          scales[i] = blk.d;
          auto nibble = [&](int j) { return j < 16 ? blk.qs[j] & 0x0F : blk.qs[j - 16] >> 4; };
          for (int oct = 0; oct < 4; ++oct) {
            for (int j = 0; j < 4; ++j) {
              out[oct * 64 + i * 4 + j] = static_cast<uint8_t>(nibble(8 * oct + j) | (nibble(8 * oct + 4 + j) << 4));
            }
          }
        }
      }
    }
  }
}

namespace {

void QuantizeRowsGeneric(const float* x, int64_t rows, int64_t ldx, int64_t k, int8_t* q, float* d, int32_t* s) {
  const int64_t blocks = k / kQuantBlock;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < blocks; ++b) {
      const float* xb = x + r * ldx + b * kQuantBlock;
      float amax = 0.0f;
      for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      int32_t sum = 0;
      int8_t* qb = q + r * k + b * kQuantBlock;
      for (int i = 0; i < kQuantBlock; ++i) {
        qb[i] = static_cast<int8_t>(std::nearbyint(xb[i] * inv));  // |x * inv| <= 127
        sum += qb[i];
      }
      d[r * blocks + b] = amax / 127.0f;
      s[r * blocks + b] = sum;
    }
  }
}

// The four k-bytes of row i in k-quad j of a group-block, as the weight integers (offset kept).
template <DType T>
int32_t QuadDot(const uint8_t* gb, int i, int j, const int8_t* xq) {
  int32_t acc = 0;
  for (int e = 0; e < 4; ++e) {
    int32_t w;
    if constexpr (T == DType::kQ8_0) {
      w = gb[j * 64 + i * 4 + e];
    } else {
      const uint8_t byte = gb[(j / 2) * 64 + i * 4 + e];
      w = j % 2 == 0 ? byte & 0x0F : byte >> 4;
    }
    acc += w * xq[4 * j + e];
  }
  return acc;
}

template <DType T>
void GemmGeneric(const uint8_t* w, int64_t groups, const QuantizedRows& x, int64_t rows, float* y, int64_t ldy,
                 int64_t n_left) {
  constexpr int32_t offset = T == DType::kQ8_0 ? 128 : 8;
  const size_t qbytes = QuantBlockBytes(T), group_bytes = x.blocks * (qbytes + kQuantGroupRows * sizeof(uint16_t));
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* group = w + static_cast<size_t>(g) * group_bytes;
    for (int64_t r = 0; r < rows; ++r) {
      float acc[kQuantGroupRows] = {};
      for (int64_t b = 0; b < x.blocks; ++b) {
        const uint8_t* gb = group + QuantIntsOffset(qbytes, x.blocks, b);
        const uint16_t* scales = reinterpret_cast<const uint16_t*>(group + QuantScalesOffset(qbytes, x.blocks, b));
        const int8_t* xq = x.q + r * x.k + b * kQuantBlock;
        const float dx = x.d[r * x.blocks + b];
        const int32_t init = -offset * x.s[r * x.blocks + b];
        for (int i = 0; i < kQuantGroupRows; ++i) {
          int32_t dot = init;
          for (int j = 0; j < 8; ++j) dot += QuadDot<T>(gb, i, j, xq);
          acc[i] = std::fma(static_cast<float>(dot), F16ToF32(scales[i]) * dx, acc[i]);
        }
      }
      const int64_t cols = std::min<int64_t>(kQuantGroupRows, n_left - g * kQuantGroupRows);
      for (int64_t i = 0; i < cols; ++i) y[r * ldy + g * kQuantGroupRows + i] = acc[i];
    }
  }
}

}  // namespace

const QuantKernels& QuantKernelsGeneric() {
  static const QuantKernels k{"generic", GemmGeneric<DType::kQ8_0>, GemmGeneric<DType::kQ4_0>, QuantizeRowsGeneric};
  return k;
}

const QuantKernels& GetQuantKernels() {
  static const QuantKernels& k = [] () -> const QuantKernels& {
    const CpuFeatures& f = GetCpuFeatures();
    return f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni ? QuantKernelsAvx512Vnni() : QuantKernelsGeneric();
  }();
  return k;
}

}  // namespace accel::cpu
