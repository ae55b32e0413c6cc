#include "models/decoder/weights_util.h"

#include <cmath>
#include <cstring>

#include "formats/quant.h"

namespace accel::decoder {

Result<LinearLayer> LinearFromTensor(ModelLoadContext& ctx, const Tensor& w, Tensor bias) {
  LinearLayer layer;
  ACCEL_ASSIGN_OR_RETURN(layer.weight, ctx.backend.PackLinear(w, ctx.compute));
  layer.bias = std::move(bias);
  return layer;
}

Result<LinearLayer> FusedLinear(ModelLoadContext& ctx, const std::vector<std::pair<std::string, int64_t>>& parts,
                                int64_t in, bool bias) {
  std::vector<Tensor> ws;
  int64_t rows = 0;
  for (const auto& [name, out] : parts) {
    ACCEL_ASSIGN_OR_RETURN(Tensor w, ctx.weights.Get(name + ".weight", {out, in}));
    if (!ws.empty() && w.dtype() != ws.front().dtype()) {
      // GGUF _M mixes keep attn_v in more bits than attn_q/k: fuse in the wider format.
      auto fused = quant::FuseCompatible(ws, w);
      if (fused.ok()) {
        ws.push_back(std::move(*fused));
        rows += out;
        continue;
      }
      return Unsupported(ctx.weights.label() + ": '" + name + ".weight' is " + std::string(Name(w.dtype())) +
                         " but the projection it is fused with is " + std::string(Name(ws.front().dtype())));
    }
    ws.push_back(std::move(w));
    rows += out;
  }
  Tensor fused = ws.front();
  if (ws.size() > 1) {
    ACCEL_ASSIGN_OR_RETURN(fused, Tensor::Zeros(ws.front().dtype(), {rows, in}));
    uint8_t* dst = static_cast<uint8_t*>(fused.raw());
    for (const Tensor& w : ws) {
      std::memcpy(dst, w.raw(), w.nbytes());
      dst += w.nbytes();
    }
  }
  Tensor b;
  if (bias) {
    ACCEL_ASSIGN_OR_RETURN(b, Tensor::Zeros(DType::kF32, {rows}));
    int64_t at = 0;
    for (const auto& [name, out] : parts) {
      ACCEL_ASSIGN_OR_RETURN(Tensor bi, ctx.F32(name + ".bias", {out}));
      std::memcpy(b.data<float>() + at, bi.data<float>(), sizeof(float) * out);
      at += out;
    }
  }
  ACCEL_ASSIGN_OR_RETURN(LinearLayer layer, LinearFromTensor(ctx, fused, std::move(b)));
  for (const auto& part : parts) layer.sources.push_back(part.first + ".weight");
  return layer;
}

Result<Tensor> TransposedF32(ModelLoadContext& ctx, const std::string& name, int64_t in, int64_t out) {
  ACCEL_ASSIGN_OR_RETURN(Tensor w, ctx.F32(name, {in, out}));
  ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DType::kF32, {out, in}));
  const float* s = w.data<float>();
  float* d = t.data<float>();
  for (int64_t i = 0; i < in; ++i) {
    for (int64_t o = 0; o < out; ++o) d[o * in + i] = s[i * out + o];
  }
  return t;
}

Tensor RegroupPerHeadQkv(const Tensor& w, int64_t heads, int64_t head_dim) {
  // Rows (h, part, d) -> (part, h, d); works for a [rows, in] weight and a [rows] bias.
  const int64_t in = w.rank() == 2 ? w.dim(1) : 1;
  Tensor out = Tensor::Zeros(DType::kF32, w.shape()).value();
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t part = 0; part < 3; ++part) {
      const float* src = w.data<float>() + ((h * 3 + part) * head_dim) * in;
      float* dst = out.data<float>() + ((part * heads + h) * head_dim) * in;
      std::memcpy(dst, src, sizeof(float) * head_dim * in);
    }
  }
  return out;
}

Result<NormWeights> LoadNorm(ModelLoadContext& ctx, const std::string& prefix, int64_t width, bool bias, float add) {
  NormWeights n;
  ACCEL_ASSIGN_OR_RETURN(Tensor w, ctx.F32(prefix + ".weight", {width}));
  if (add != 0.0f) {
    n.weight = w.Clone();
    for (int64_t i = 0; i < width; ++i) n.weight.data<float>()[i] += add;
  } else {
    n.weight = w;
  }
  if (bias) { ACCEL_ASSIGN_OR_RETURN(n.bias, ctx.F32(prefix + ".bias", {width})); }
  return n;
}

std::vector<float> AlibiSlopes(int64_t heads) {
  // Slopes 2^(-8 i / n) for the closest power of two n <= heads, then the odd steps of 2n.
  int64_t closest = 1;
  while (closest * 2 <= heads) closest *= 2;
  std::vector<float> slopes;
  const double base = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(closest)) - 3)));
  for (int64_t i = 1; i <= closest; ++i) slopes.push_back(static_cast<float>(std::pow(base, static_cast<double>(i))));
  if (closest != heads) {
    const double extra = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(2 * closest)) - 3)));
    for (int64_t i = 0; static_cast<int64_t>(slopes.size()) < heads; ++i) {
      slopes.push_back(static_cast<float>(std::pow(extra, static_cast<double>(1 + 2 * i))));
    }
  }
  return slopes;
}

}  // namespace accel::decoder
