#include "models/blocks.h"

#include <cmath>
#include <cstring>

namespace accel::blocks {

Result<LinearLayer> LoadFusedQkv(ModelLoadContext& ctx, const std::string& q, const std::string& k, const std::string& v,
                                 int64_t out, int64_t in) {
  ACCEL_ASSIGN_OR_RETURN(Tensor w, Tensor::Zeros(DType::kF32, {3 * out, in}));
  ACCEL_ASSIGN_OR_RETURN(Tensor b, Tensor::Zeros(DType::kF32, {3 * out}));
  const std::string names[3] = {q, k, v};
  bool any_bias = false;
  for (int i = 0; i < 3; ++i) {
    ACCEL_ASSIGN_OR_RETURN(Tensor wi, ctx.F32(names[i] + ".weight", {out, in}));
    std::memcpy(w.data<float>() + i * out * in, wi.data<float>(), sizeof(float) * out * in);
    if (ctx.weights.Has(names[i] + ".bias")) {
      ACCEL_ASSIGN_OR_RETURN(Tensor bi, ctx.F32(names[i] + ".bias", {out}));
      std::memcpy(b.data<float>() + i * out, bi.data<float>(), sizeof(float) * out);
      any_bias = true;
    }
  }
  LinearLayer layer;
  ACCEL_ASSIGN_OR_RETURN(layer.weight, ctx.backend.PackLinear(w, ctx.compute));
  for (const std::string& n : names) layer.sources.push_back(n + ".weight");
  if (any_bias) layer.bias = std::move(b);
  return layer;
}

Result<TransformerLayer> LoadLayer(ModelLoadContext& ctx, const LayerNames& n, int64_t hidden, int64_t ffn) {
  TransformerLayer l;
  ACCEL_ASSIGN_OR_RETURN(l.ln1_w, ctx.F32(n.ln1 + ".weight", {hidden}));
  ACCEL_ASSIGN_OR_RETURN(l.ln1_b, ctx.F32(n.ln1 + ".bias", {hidden}));
  ACCEL_ASSIGN_OR_RETURN(l.qkv, LoadFusedQkv(ctx, n.q, n.k, n.v, hidden, hidden));
  ACCEL_ASSIGN_OR_RETURN(l.out, ctx.Linear(n.o, hidden, hidden));
  ACCEL_ASSIGN_OR_RETURN(l.ln2_w, ctx.F32(n.ln2 + ".weight", {hidden}));
  ACCEL_ASSIGN_OR_RETURN(l.ln2_b, ctx.F32(n.ln2 + ".bias", {hidden}));
  ACCEL_ASSIGN_OR_RETURN(l.fc1, ctx.Linear(n.fc1, ffn, hidden));
  ACCEL_ASSIGN_OR_RETURN(l.fc2, ctx.Linear(n.fc2, hidden, ffn));
  return l;
}

namespace {
Result<Tensor> SelfAttention(Exec& ex, const TransformerLayer& l, const Tensor& x, const LayerOptions& o) {
  const int64_t h = x.dim(2);
  ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(x, l.qkv));
  ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.Attention(qkv.Columns(0, h), qkv.Columns(h, 2 * h), qkv.Columns(2 * h, 3 * h), o.attention));
  return ex.Linear(ctx, l.out);
}
}  // namespace

Result<Tensor> PreLnForward(Exec& ex, const TransformerLayer& l, const Tensor& x, const LayerOptions& o) {
  if (x.rank() != 3) return InvalidArgument("transformer layer input must be [batch, seq, hidden]");
  ACCEL_ASSIGN_OR_RETURN(Tensor h1, ex.LayerNorm(x, l.ln1_w, &l.ln1_b, o.eps));
  ACCEL_ASSIGN_OR_RETURN(Tensor attn, SelfAttention(ex, l, h1, o));
  ACCEL_RETURN_IF_ERROR(ex.AddInto(attn, x, attn));
  ACCEL_ASSIGN_OR_RETURN(Tensor h2, ex.LayerNorm(attn, l.ln2_w, &l.ln2_b, o.eps));
  ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(h2, l.fc1, o.act));
  ACCEL_ASSIGN_OR_RETURN(Tensor out, ex.Linear(inner, l.fc2));
  ACCEL_RETURN_IF_ERROR(ex.AddInto(out, attn, out));
  return out;
}

Result<Tensor> PostLnForward(Exec& ex, const TransformerLayer& l, const Tensor& x, const LayerOptions& o) {
  if (x.rank() != 3) return InvalidArgument("transformer layer input must be [batch, seq, hidden]");
  ACCEL_ASSIGN_OR_RETURN(Tensor attn, SelfAttention(ex, l, x, o));
  ACCEL_RETURN_IF_ERROR(ex.AddInto(attn, x, attn));
  ACCEL_ASSIGN_OR_RETURN(Tensor h1, ex.LayerNorm(attn, l.ln1_w, &l.ln1_b, o.eps));
  ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(h1, l.fc1, o.act));
  ACCEL_ASSIGN_OR_RETURN(Tensor out, ex.Linear(inner, l.fc2));
  ACCEL_RETURN_IF_ERROR(ex.AddInto(out, h1, out));
  return ex.LayerNorm(out, l.ln2_w, &l.ln2_b, o.eps);
}

Result<Tensor> GatherRows(Exec& ex, const Tensor& x, const std::vector<int64_t>& index) {
  const int64_t batch = x.dim(0), seq = x.dim(1), h = x.dim(2);
  if (static_cast<int64_t>(index.size()) != batch) return InvalidArgument("GatherRows: one index per batch item");
  ACCEL_ASSIGN_OR_RETURN(Tensor out, ex.Alloc({batch, h}));
  ACCEL_ASSIGN_OR_RETURN(Tensor rows, x.Reshape({batch * seq, h}));
  for (int64_t b = 0; b < batch; ++b) {
    if (index[b] < 0 || index[b] >= seq) return InvalidArgument("GatherRows: row " + std::to_string(index[b]) + " out of range");
    Tensor dst = out.SliceRows(b, b + 1);
    ACCEL_RETURN_IF_ERROR(ex.Copy(rows.SliceRows(b * seq + index[b], b * seq + index[b] + 1), dst));
  }
  return out;
}

Result<Tensor> PatchEmbed(Exec& ex, const Tensor& pixels, const Tensor& weight, const Tensor* bias, int64_t patch,
                          int64_t image_size) {
  if (pixels.rank() != 4 || pixels.dtype() != DType::kF32 || pixels.dim(1) != weight.dim(1)) {
    return InvalidArgument("pixel_values must be f32 [batch, " + std::to_string(weight.dim(1)) + ", H, W], got " +
                           ShapeToString(pixels.shape()));
  }
  if (pixels.dim(2) != image_size || pixels.dim(3) != image_size) {
    return InvalidArgument("pixel_values are " + std::to_string(pixels.dim(2)) + "x" + std::to_string(pixels.dim(3)) +
                           ", the model takes " + std::to_string(image_size) + "x" + std::to_string(image_size));
  }
  const int64_t batch = pixels.dim(0), d = weight.dim(0), g = image_size / patch;
  ACCEL_ASSIGN_OR_RETURN(Tensor maps, ex.Conv2d(pixels, weight, bias, static_cast<int>(patch), 0, 1));
  ACCEL_ASSIGN_OR_RETURN(Tensor flat, maps.Reshape({batch, d, g * g}));
  return ex.TransposeLast2(flat);
}

Result<Tensor> PrependAndPosition(Exec& ex, const std::vector<const Tensor*>& prefix, const Tensor& patches,
                                  const Tensor& positions) {
  const int64_t batch = patches.dim(0), n = patches.dim(1), d = patches.dim(2);
  const int64_t p = static_cast<int64_t>(prefix.size()), t = p + n;
  if (positions.numel() != static_cast<size_t>(t * d)) {
    return InvalidArgument("position table has " + std::to_string(positions.numel() / d) + " rows for " + std::to_string(t) + " tokens");
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Alloc({batch, t, d}));
  for (int64_t b = 0; b < batch; ++b) {
    ACCEL_ASSIGN_OR_RETURN(Tensor item, x.SliceRows(b, b + 1).Reshape({t, d}));
    for (int64_t i = 0; i < p; ++i) {
      ACCEL_ASSIGN_OR_RETURN(Tensor token, prefix[i]->Reshape({1, d}));
      Tensor dst = item.SliceRows(i, i + 1);
      ACCEL_RETURN_IF_ERROR(ex.Copy(token, dst));
    }
    Tensor dst = item.SliceRows(p, t);
    ACCEL_ASSIGN_OR_RETURN(Tensor src, patches.SliceRows(b, b + 1).Reshape({n, d}));
    ACCEL_RETURN_IF_ERROR(ex.Copy(src, dst));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor pos, positions.Reshape({t, d}));
  ACCEL_RETURN_IF_ERROR(ex.AddInto(x, pos, x));
  return x;
}

int64_t IdAt(const Tensor& ids, size_t i) {
  return ids.dtype() == DType::kI64 ? ids.data<int64_t>()[i] : ids.data<int32_t>()[i];
}

Status CheckIds(const Tensor& t, const std::string& name) {
  if (t.rank() != 2 || (t.dtype() != DType::kI64 && t.dtype() != DType::kI32) || t.dim(0) <= 0 || t.dim(1) <= 0) {
    return InvalidArgument(name + " must be a non-empty integer [batch, seq] tensor, got " + ShapeToString(t.shape()));
  }
  return Status::Ok();
}

AttentionParams MultiHead(int64_t hidden, int64_t heads) {
  AttentionParams p;
  p.num_heads = p.num_kv_heads = static_cast<int>(heads);
  p.head_dim = static_cast<int>(hidden / heads);
  p.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
  return p;
}

const Tensor* FindInput(const TensorMap& inputs, const std::string& name) {
  auto it = inputs.find(name);
  return it == inputs.end() ? nullptr : &it->second;
}

}  // namespace accel::blocks
