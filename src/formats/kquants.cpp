// K-quant reference code: the scalar dequantizers define the formats (kquants.h), the
// quantizers fit each sub-block with quant_search.h (llama.cpp's make_qkx2_quants /
// make_qx_quants search, weighted by an importance matrix when one is given) so files we write
// quantize about as well as llama-quantize's. IQ4_NL and IQ4_XS live in iq4.cpp.
#include "formats/kquants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"

namespace accel::quant {

namespace {

inline int Nearest(float x) { return static_cast<int>(std::nearbyint(x)); }

// The importance of the elements from `offset` on, or null.
inline const float* ImportanceAt(const QuantParams& p, size_t offset) { return p.importance ? p.importance + offset : nullptr; }

// Quantizes one super-block's 8 sub-blocks of 32 to 6-bit scales/mins (Q4_K/Q5_K share it) and
// returns the final integers in L (0..nmax).
void QuantizeScaleMinBlock(const float* x, const float* importance, ScaleSearch search, int nmax, uint16_t* d_out,
                           uint16_t* dmin_out, uint8_t* scales, uint8_t* L) {
  float sc[8], mins[8], max_sc = 0, max_min = 0, w[32];
  const float sigma2 = ImportanceSigma2(x, kSuperBlock);
  for (int j = 0; j < 8; ++j) {
    SearchWeights(x + 32 * j, 32, importance ? importance + 32 * j : nullptr, sigma2, DefaultWeights::kRmsPlusAbs, w);
    sc[j] = FitScaleMin(x + 32 * j, w, 32, nmax, search, L + 32 * j, &mins[j]);
    max_sc = std::max(max_sc, sc[j]), max_min = std::max(max_min, mins[j]);
  }
  const float inv_sc = max_sc > 0 ? 63.0f / max_sc : 0.0f, inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(scales, 0, 12);
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls = static_cast<uint8_t>(std::min(63, Nearest(inv_sc * sc[j])));
    const uint8_t lm = static_cast<uint8_t>(std::min(63, Nearest(inv_min * mins[j])));
    if (j < 4) {
      scales[j] = ls, scales[j + 4] = lm;
    } else {
      scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d_out = F32ToF16(max_sc / 63.0f);
  *dmin_out = F32ToF16(max_min / 63.0f);
  // Requantize under the scales as stored (rounded to 6 bits and fp16).
  const float d = F16ToF32(*d_out), dmin = F16ToF32(*dmin_out);
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    ScaleMinK4(j, scales, &s, &m);
    const float ds = d * s, dm = dmin * m;
    for (int i = 0; i < 32; ++i) {
      L[32 * j + i] = ds == 0.0f ? 0 : static_cast<uint8_t>(std::clamp(Nearest((x[32 * j + i] + dm) / ds), 0, nmax));
    }
  }
}

}  // namespace

void QuantizeQ4_K(const float* x, size_t n, BlockQ4_K* out, const QuantParams& p) {
  uint8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    BlockQ4_K& o = out[b];
    QuantizeScaleMinBlock(x, ImportanceAt(p, b * kSuperBlock), p.search, 15, &o.d, &o.dmin, o.scales, L);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) o.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
  }
}

void QuantizeQ5_K(const float* x, size_t n, BlockQ5_K* out, const QuantParams& p) {
  uint8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    BlockQ5_K& o = out[b];
    QuantizeScaleMinBlock(x, ImportanceAt(p, b * kSuperBlock), p.search, 31, &o.d, &o.dmin, o.scales, L);
    std::memset(o.qh, 0, sizeof o.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        o.qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        o.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void QuantizeQ6_K(const float* x, size_t n, BlockQ6_K* out, const QuantParams& p) {
  int8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    BlockQ6_K& o = out[b];
    const float* imp = ImportanceAt(p, b * kSuperBlock);
    const float sigma2 = ImportanceSigma2(x, kSuperBlock);
    float sc[16], amax = 0, max = 0, w[16];
    for (int j = 0; j < 16; ++j) {
      SearchWeights(x + 16 * j, 16, imp ? imp + 16 * j : nullptr, sigma2, DefaultWeights::kSquare, w);
      sc[j] = FitScaleSymmetric(x + 16 * j, w, 16, 32, p.search, L + 16 * j);
      if (std::fabs(sc[j]) > amax) amax = std::fabs(sc[j]), max = sc[j];
    }
    // The largest sub-block scale maps to -128, the one int8 value without a positive twin.
    const float iscale = amax > 0 ? -128.0f / max : 0.0f;
    o.d = F32ToF16(amax > 0 ? 1 / iscale : 0.0f);
    const float d = F16ToF32(o.d);
    for (int j = 0; j < 16; ++j) {
      o.scales[j] = static_cast<int8_t>(std::min(127, Nearest(iscale * sc[j])));
      const float ds = d * o.scales[j];
      for (int i = 0; i < 16; ++i) {
        L[16 * j + i] = static_cast<int8_t>(ds == 0.0f ? 32 : std::clamp(Nearest(x[16 * j + i] / ds), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* q = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = q[l], q2 = q[l + 32], q3 = q[l + 64], q4 = q[l + 96];
        o.ql[64 * h + l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        o.ql[64 * h + 32 + l] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        o.qh[32 * h + l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

namespace {
// y = d * scale_j * q - dmin * min_j for every quant, sub-block by sub-block (Q4_K and Q5_K).
template <typename Block>
void DequantizeScaleMin(const Block* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kSuperBlock; ++k) {
    const float d = F16ToF32(b[k].d), dmin = F16ToF32(b[k].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      ScaleMinK4(j, b[k].scales, &sc, &m);
      for (int l = 0; l < 32; ++l) *y++ = d * sc * QuantAt(b[k], j, l) - dmin * m;
    }
  }
}
}  // namespace

void DequantizeQ4_K(const BlockQ4_K* b, size_t n, float* y) { DequantizeScaleMin(b, n, y); }
void DequantizeQ5_K(const BlockQ5_K* b, size_t n, float* y) { DequantizeScaleMin(b, n, y); }

void DequantizeQ6_K(const BlockQ6_K* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kSuperBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[k].ql + 64 * h;
      const uint8_t* qh = b[k].qh + 32 * h;
      const int8_t* sc = b[k].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        y[l] = d * sc[is] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
        y[l + 32] = d * sc[is + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        y[l + 64] = d * sc[is + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        y[l + 96] = d * sc[is + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
      y += 128;
    }
  }
}

void QuantizeQ3_K(const float* x, size_t n, BlockQ3_K* out, const QuantParams& p) {
  int8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    BlockQ3_K& o = out[b];
    const float* imp = ImportanceAt(p, b * kSuperBlock);
    const float sigma2 = ImportanceSigma2(x, kSuperBlock);
    float sc[16], amax = 0, max = 0, w[16];
    for (int j = 0; j < 16; ++j) {
      SearchWeights(x + 16 * j, 16, imp ? imp + 16 * j : nullptr, sigma2, DefaultWeights::kSquare, w);
      sc[j] = FitScaleSymmetric(x + 16 * j, w, 16, 4, p.search, L + 16 * j);
      if (std::fabs(sc[j]) > amax) amax = std::fabs(sc[j]), max = sc[j];
    }
    // The largest sub-block scale maps to -32 (the stored 6-bit value 0).
    const float iscale = amax > 0 ? -32.0f / max : 0.0f;
    std::memset(o.scales, 0, sizeof o.scales);
    for (int j = 0; j < 16; ++j) {
      const int l = std::clamp(Nearest(iscale * sc[j]), -32, 31) + 32;
      if (j < 8) {
        o.scales[j] = static_cast<uint8_t>(l & 15);
      } else {
        o.scales[j - 8] |= static_cast<uint8_t>((l & 15) << 4);
      }
      o.scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
    }
    o.d = F32ToF16(amax > 0 ? 1 / iscale : 0.0f);
    const float d = F16ToF32(o.d);
    for (int j = 0; j < 16; ++j) {
      const float ds = d * ScaleQ3K(o.scales, j);
      for (int i = 0; i < 16; ++i) {
        L[16 * j + i] = static_cast<int8_t>(ds == 0.0f ? 4 : std::clamp(Nearest(x[16 * j + i] / ds), -4, 3) + 4);
      }
    }
    std::memset(o.hmask, 0, sizeof o.hmask);
    std::memset(o.qs, 0, sizeof o.qs);
    for (int i = 0; i < kSuperBlock; ++i) {
      const int h = i / 128, c = (i % 128) / 32, l = i % 32;
      o.qs[32 * h + l] |= static_cast<uint8_t>((L[i] & 3) << (2 * c));
      o.hmask[l] |= static_cast<uint8_t>(((L[i] >> 2) & 1) << (4 * h + c));
    }
  }
}

void QuantizeQ2_K(const float* x, size_t n, BlockQ2_K* out, const QuantParams& p) {
  uint8_t L[kSuperBlock];
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    BlockQ2_K& o = out[b];
    const float* imp = ImportanceAt(p, b * kSuperBlock);
    const float sigma2 = ImportanceSigma2(x, kSuperBlock);
    float sc[16], mins[16], max_sc = 0, max_min = 0, w[16];
    for (int j = 0; j < 16; ++j) {
      SearchWeights(x + 16 * j, 16, imp ? imp + 16 * j : nullptr, sigma2, DefaultWeights::kRmsPlusAbs, w);
      sc[j] = FitScaleMin(x + 16 * j, w, 16, 3, p.search, L + 16 * j, &mins[j]);
      max_sc = std::max(max_sc, sc[j]), max_min = std::max(max_min, mins[j]);
    }
    const float inv_sc = max_sc > 0 ? 15.0f / max_sc : 0.0f, inv_min = max_min > 0 ? 15.0f / max_min : 0.0f;
    for (int j = 0; j < 16; ++j) {
      const int ls = std::min(15, Nearest(inv_sc * sc[j])), lm = std::min(15, Nearest(inv_min * mins[j]));
      o.scales[j] = static_cast<uint8_t>(ls | (lm << 4));
    }
    o.d = F32ToF16(max_sc / 15.0f);
    o.dmin = F32ToF16(max_min / 15.0f);
    const float d = F16ToF32(o.d), dmin = F16ToF32(o.dmin);
    for (int j = 0; j < 16; ++j) {
      const float ds = d * (o.scales[j] & 15), dm = dmin * (o.scales[j] >> 4);
      for (int i = 0; i < 16; ++i) {
        L[16 * j + i] = ds == 0.0f ? 0 : static_cast<uint8_t>(std::clamp(Nearest((x[16 * j + i] + dm) / ds), 0, 3));
      }
    }
    std::memset(o.qs, 0, sizeof o.qs);
    for (int i = 0; i < kSuperBlock; ++i) {
      const int h = i / 128, c = (i % 128) / 32, l = i % 32;
      o.qs[32 * h + l] |= static_cast<uint8_t>(L[i] << (2 * c));
    }
  }
}

void DequantizeQ3_K(const BlockQ3_K* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kSuperBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int i = 0; i < kSuperBlock; ++i) {
      const int h = i / 128, c = (i % 128) / 32, l = i % 32;
      const int q = ((b[k].qs[32 * h + l] >> (2 * c)) & 3) | (((b[k].hmask[l] >> (4 * h + c)) & 1) << 2);
      *y++ = d * static_cast<float>(ScaleQ3K(b[k].scales, i / 16)) * static_cast<float>(q - 4);
    }
  }
}

void DequantizeQ2_K(const BlockQ2_K* b, size_t n, float* y) {
  for (size_t k = 0; k < n / kSuperBlock; ++k) {
    const float d = F16ToF32(b[k].d), dmin = F16ToF32(b[k].dmin);
    for (int i = 0; i < kSuperBlock; ++i) {
      const int h = i / 128, c = (i % 128) / 32, l = i % 32;
      const uint8_t sc = b[k].scales[i / 16];
      *y++ = d * (sc & 15) * ((b[k].qs[32 * h + l] >> (2 * c)) & 3) - dmin * (sc >> 4);
    }
  }
}

void QuantizeQ8_K(const float* x, size_t n, BlockQ8_K* out) {
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
    float amax = 0;
    for (int i = 0; i < kSuperBlock; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    out[b].d = amax / 127.0f;
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) {
        out[b].qs[i] = static_cast<int8_t>(std::nearbyint(x[i] * inv));  // |x * inv| <= 127
        sum += out[b].qs[i];
      }
      out[b].bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

void QuantizeK(DType t, const float* x, size_t n, void* raw, const QuantParams& p) {
  switch (t) {
    case DType::kQ4_K: QuantizeQ4_K(x, n, static_cast<BlockQ4_K*>(raw), p); break;
    case DType::kQ5_K: QuantizeQ5_K(x, n, static_cast<BlockQ5_K*>(raw), p); break;
    case DType::kQ6_K: QuantizeQ6_K(x, n, static_cast<BlockQ6_K*>(raw), p); break;
    case DType::kQ3_K: QuantizeQ3_K(x, n, static_cast<BlockQ3_K*>(raw), p); break;
    case DType::kQ2_K: QuantizeQ2_K(x, n, static_cast<BlockQ2_K*>(raw), p); break;
    case DType::kIQ4_NL: QuantizeIQ4_NL(x, n, static_cast<BlockIQ4_NL*>(raw), p); break;
    case DType::kIQ4_XS: QuantizeIQ4_XS(x, n, static_cast<BlockIQ4_XS*>(raw), p); break;
    default: break;
  }
}

void DequantizeK(DType t, const void* raw, size_t n, float* out) {
  switch (t) {
    case DType::kQ4_K: DequantizeQ4_K(static_cast<const BlockQ4_K*>(raw), n, out); break;
    case DType::kQ5_K: DequantizeQ5_K(static_cast<const BlockQ5_K*>(raw), n, out); break;
    case DType::kQ6_K: DequantizeQ6_K(static_cast<const BlockQ6_K*>(raw), n, out); break;
    case DType::kQ3_K: DequantizeQ3_K(static_cast<const BlockQ3_K*>(raw), n, out); break;
    case DType::kQ2_K: DequantizeQ2_K(static_cast<const BlockQ2_K*>(raw), n, out); break;
    case DType::kIQ4_NL: DequantizeIQ4_NL(static_cast<const BlockIQ4_NL*>(raw), n, out); break;
    case DType::kIQ4_XS: DequantizeIQ4_XS(static_cast<const BlockIQ4_XS*>(raw), n, out); break;
    default: break;
  }
}

std::optional<std::string> GgmlTypeName(uint32_t type) {
  // ggml.h's enum ggml_type; ids 4, 5 (Q4_2, Q4_3) and 31-33, 36-38 (repacked Q4_0/IQ4_NL
  // variants) were retired and are not names of anything a file can hold.
  static const char* const kNames[] = {
      "F32",     "F16",    "Q4_0",    "Q4_1",  "",      "",       "Q5_0",   "Q5_1",    "Q8_0",    "Q8_1",
      "Q2_K",    "Q3_K",   "Q4_K",    "Q5_K",  "Q6_K",  "Q8_K",   "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL",  "IQ3_S",  "IQ2_S",   "IQ4_XS", "I8",   "I16",    "I32",    "I64",     "F64",     "IQ1_M",
      "BF16",    "",       "",        "",      "TQ1_0", "TQ2_0",  "",       "",        "",        "MXFP4",
  };
  if (type >= sizeof(kNames) / sizeof(kNames[0]) || kNames[type][0] == '\0') return std::nullopt;
  return std::string(kNames[type]);
}

}  // namespace accel::quant
