#include "formats/quant.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/half.h"
#include "formats/kquants.h"

namespace accel::quant {

void QuantizeQ8_0(const float* x, size_t n, BlockQ8_0* out) {
  for (size_t b = 0; b < n / kBlock; ++b, x += kBlock) {
    float amax = 0.0f;
    for (int i = 0; i < kBlock; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = F32ToF16(d);
    for (int i = 0; i < kBlock; ++i) out[b].qs[i] = static_cast<int8_t>(std::lround(x[i] * id));
  }
}

namespace {
// Q4_0 by the weighted search (quant_search.h): the grid anchored at -8 as ggml's rounding
// anchors it, then the least-squares scale of the best nearby grid, requantized under the
// stored fp16 scale.
void SearchQ4_0Block(const float* x, const float* importance, BlockQ4_0* out) {
  float w[kBlock];
  int8_t L[kBlock];
  SearchWeights(x, kBlock, importance, ImportanceSigma2(x, kBlock), DefaultWeights::kSquare, w);
  out->d = F32ToF16(FitScaleSymmetric(x, w, kBlock, 8, ScaleSearch::kSearch, L));
  const float d = F16ToF32(out->d), id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kBlock / 2; ++j) {
    const int lo = std::clamp(static_cast<int>(std::nearbyint(x[j] * id)), -8, 7) + 8;
    const int hi = std::clamp(static_cast<int>(std::nearbyint(x[j + kBlock / 2] * id)), -8, 7) + 8;
    out->qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}
}  // namespace

void QuantizeQ4_0(const float* x, size_t n, BlockQ4_0* out, const QuantParams& p) {
  if (p.search == ScaleSearch::kSearch) {
    for (size_t b = 0; b < n / kBlock; ++b) SearchQ4_0Block(x + b * kBlock, p.importance ? p.importance + b * kBlock : nullptr, out + b);
    return;
  }
  // Round to nearest, bit for bit ggml's reference quantizer.
  for (size_t b = 0; b < n / kBlock; ++b, x += kBlock) {
    // The value of largest magnitude maps to -8, keeping its sign in d.
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < kBlock; ++i) {
      if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    }
    const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = F32ToF16(d);
    for (int j = 0; j < kBlock / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(x[j + kBlock / 2] * id + 8.5f));
      out[b].qs[j] = static_cast<uint8_t>(std::max(0, lo) | (std::max(0, hi) << 4));
    }
  }
}

void DequantizeQ8_0(const BlockQ8_0* b, size_t n, float* out) {
  for (size_t k = 0; k < n / kBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int i = 0; i < kBlock; ++i) out[k * kBlock + i] = d * b[k].qs[i];
  }
}

void DequantizeQ4_0(const BlockQ4_0* b, size_t n, float* out) {
  for (size_t k = 0; k < n / kBlock; ++k) {
    const float d = F16ToF32(b[k].d);
    for (int j = 0; j < kBlock / 2; ++j) {
      out[k * kBlock + j] = d * static_cast<float>((b[k].qs[j] & 0x0F) - 8);
      out[k * kBlock + j + kBlock / 2] = d * static_cast<float>((b[k].qs[j] >> 4) - 8);
    }
  }
}

void QuantizeBlocks(DType dtype, const float* x, size_t n, void* blocks, const QuantParams& p) {
  if (dtype == DType::kQ8_0) return QuantizeQ8_0(x, n, static_cast<BlockQ8_0*>(blocks));
  if (dtype == DType::kQ4_0) return QuantizeQ4_0(x, n, static_cast<BlockQ4_0*>(blocks), p);
  QuantizeK(dtype, x, n, blocks, p);
}

void DequantizeBlocks(DType dtype, const void* blocks, size_t n, float* out) {
  if (dtype == DType::kQ8_0) return DequantizeQ8_0(static_cast<const BlockQ8_0*>(blocks), n, out);
  if (dtype == DType::kQ4_0) return DequantizeQ4_0(static_cast<const BlockQ4_0*>(blocks), n, out);
  DequantizeK(dtype, blocks, n, out);
}

Result<Tensor> ToF32(const Tensor& t) {
  if (IsKQuant(t.dtype()) || t.dtype() == DType::kQ8_0 || t.dtype() == DType::kQ4_0) {
    ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF32, t.shape()));
    DequantizeBlocks(t.dtype(), t.raw(), t.numel(), out.data<float>());
    return out;
  }
  return t.ToF32();
}

Result<Tensor> Quantize(const Tensor& t, DType to, const QuantParams& p) {
  if (to != DType::kQ8_0 && to != DType::kQ4_0 && !IsKQuant(to)) return Unsupported("cannot quantize to " + std::string(Name(to)));
  const int64_t block = static_cast<int64_t>(Info(to).block_elems);
  if (t.rank() < 1 || t.dim(-1) % block != 0) {
    return InvalidArgument("quantizing to " + std::string(Name(to)) + " needs rows of a multiple of " + std::to_string(block) + ", got " + ShapeToString(t.shape()));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor f, ToF32(t));
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(to, t.shape()));
  if (to == DType::kQ8_0) {
    QuantizeQ8_0(f.data<float>(), f.numel(), out.data<BlockQ8_0>());
    return out;
  }
  // Row by row, so the per-column importance lines up with each row's elements.
  const size_t row = static_cast<size_t>(t.dim(-1)), rows = f.numel() / row, row_bytes = *BytesFor(to, row);
  for (size_t r = 0; r < rows; ++r) {
    const float* x = f.data<float>() + r * row;
    QuantizeBlocks(to, x, row, static_cast<uint8_t*>(out.raw()) + r * row_bytes, p);
  }
  return out;
}

Result<Tensor> FuseCompatible(std::vector<Tensor>& parts, const Tensor& next) {
  const DType have = parts.front().dtype(), want = next.dtype();
  if (!Info(have).is_quantized || !Info(want).is_quantized) return Unsupported("fusing " + std::string(Name(have)) + " with " + std::string(Name(want)));
  auto bits = [](DType t) { return static_cast<double>(Info(t).block_bytes) / static_cast<double>(Info(t).block_elems); };
  const DType to = bits(want) > bits(have) ? want : have;
  for (Tensor& p : parts) {
    if (p.dtype() != to) { ACCEL_ASSIGN_OR_RETURN(p, Quantize(p, to)); }
  }
  if (next.dtype() == to) return next;
  return Quantize(next, to);
}

}  // namespace accel::quant
