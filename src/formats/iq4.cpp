// IQ4_NL and IQ4_XS (layouts in kquants.h): 4-bit indices into one non-linear grid, with a scale
// per 32 weights (IQ4_NL: fp16 each; IQ4_XS: 6 bits each under one fp16 per 256, 0.25 bits per
// weight less for the same grid).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "formats/kquants.h"

namespace accel::quant {

namespace {
inline int Nearest(float x) { return static_cast<int>(std::nearbyint(x)); }

// Indices of n values under scale d (the stored, rounded one), so the file's blocks are the
// best rounding for the scale the reader will use.
void Requantize(const float* x, int n, float d, uint8_t* L) {
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(NearestIq4(x[i] * id));
}

// 32 indices into 16 bytes: byte l holds index l (low nibble) and l + 16 (high nibble).
void Pack32(const uint8_t* L, uint8_t* qs) {
  for (int l = 0; l < 16; ++l) qs[l] = static_cast<uint8_t>(L[l] | (L[l + 16] << 4));
}
}  // namespace

void QuantizeIQ4_NL(const float* x, size_t n, BlockIQ4_NL* out, const QuantParams& p) {
  float w[kIq4nlBlock];
  uint8_t L[kIq4nlBlock];
  for (size_t b = 0; b < n / kIq4nlBlock; ++b, x += kIq4nlBlock) {
    const float* imp = p.importance ? p.importance + b * kIq4nlBlock : nullptr;
    SearchWeights(x, kIq4nlBlock, imp, ImportanceSigma2(x, kIq4nlBlock), DefaultWeights::kSquare, w);
    out[b].d = F32ToF16(FitScaleIq4(x, w, kIq4nlBlock, p.search, L));
    Requantize(x, kIq4nlBlock, F16ToF32(out[b].d), L);
    Pack32(L, out[b].qs);
  }
}

void QuantizeIQ4_XS(const float* x, size_t n, BlockIQ4_XS* out, const QuantParams& p) {
  float w[32], sc[8];
  uint8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    const float* imp = p.importance ? p.importance + b * kSuperBlock : nullptr;
    const float sigma2 = ImportanceSigma2(x, kSuperBlock);
    float amax = 0, max = 0;
    for (int j = 0; j < 8; ++j) {
      SearchWeights(x + 32 * j, 32, imp ? imp + 32 * j : nullptr, sigma2, DefaultWeights::kSquare, w);
      sc[j] = FitScaleIq4(x + 32 * j, w, 32, p.search, L + 32 * j);
      if (std::fabs(sc[j]) > amax) amax = std::fabs(sc[j]), max = sc[j];
    }
    BlockIQ4_XS& o = out[b];
    std::memset(&o, 0, sizeof o);
    // The largest sub-block scale maps to -32 (stored 0), the one 6-bit value without a
    // positive twin, as Q3_K's scales do; the others round to the nearest step of it.
    o.d = F32ToF16(amax > 0 ? -max / 32.0f : 0.0f);
    const float d = F16ToF32(o.d), id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 8; ++j) {
      const int l = std::clamp(Nearest(id * sc[j]), -32, 31);
      const int ls = l + 32;
      o.scales_l[j / 2] |= static_cast<uint8_t>((ls & 15) << (4 * (j % 2)));
      o.scales_h |= static_cast<uint16_t>((ls >> 4) << (2 * j));
      Requantize(x + 32 * j, 32, d * static_cast<float>(l), L + 32 * j);
      Pack32(L + 32 * j, o.qs + 16 * j);
    }
  }
}

void DequantizeIQ4_NL(const BlockIQ4_NL* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kIq4nlBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int l = 0; l < 16; ++l) {
      y[l] = d * kIq4nlValues[b[k].qs[l] & 15];
      y[l + 16] = d * kIq4nlValues[b[k].qs[l] >> 4];
    }
    y += kIq4nlBlock;
  }
}

void DequantizeIQ4_XS(const BlockIQ4_XS* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kSuperBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * static_cast<float>(ScaleIQ4XS(b[k], j));
      const uint8_t* qs = b[k].qs + 16 * j;
      for (int l = 0; l < 16; ++l) {
        y[l] = dl * kIq4nlValues[qs[l] & 15];
        y[l + 16] = dl * kIq4nlValues[qs[l] >> 4];
      }
      y += 32;
    }
  }
}

}  // namespace accel::quant
