// CLIPModel: a causal text transformer and a ViT-style vision transformer, each projected into
// a shared embedding space; logits are exp(logit_scale) times the cosine similarities.
// Text pooling follows HF: with the legacy eos_token_id == 2 the pooled token is the first
// argmax of input_ids (the EOT id is the largest), otherwise the first position equal to
// eos_token_id.
#include "models/clip.h"

#include <cmath>

#include "models/blocks.h"

namespace accel {
namespace {

struct TowerSpec {
  int64_t hidden = 0, layers = 0, heads = 0, ffn = 0;
  float eps = 1e-5f;
  Activation act = Activation::kQuickGelu;
};

Result<TowerSpec> TowerFromConfig(const HfConfig& c) {
  TowerSpec s;
  ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
  ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.ffn, c.Int({"intermediate_size"}));
  s.eps = static_cast<float>(c.FloatOr("layer_norm_eps", 1e-5));
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(c.StringOr("hidden_act", "quick_gelu")));
  if (s.hidden > 0 && s.heads > 0 && s.hidden % s.heads) {
    return c.Contradiction("hidden_size", "is not divisible by", "num_attention_heads");
  }
  if (s.hidden <= 0 || s.heads <= 0 || s.layers <= 0 || s.layers > 1000 || s.ffn <= 0) {
    return Corrupt(c.label() + ": inconsistent CLIP tower sizes");
  }
  return s;
}

Result<std::vector<blocks::TransformerLayer>> LoadTower(ModelLoadContext& ctx, const std::string& prefix, const TowerSpec& s) {
  std::vector<blocks::TransformerLayer> layers;
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string p = prefix + "encoder.layers." + std::to_string(i) + ".";
    blocks::LayerNames n{p + "layer_norm1", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj",
                         p + "self_attn.out_proj", p + "layer_norm2", p + "mlp.fc1", p + "mlp.fc2"};
    ACCEL_ASSIGN_OR_RETURN(auto layer, blocks::LoadLayer(ctx, n, s.hidden, s.ffn));
    layers.push_back(std::move(layer));
  }
  return layers;
}

// Rows of x [B, D] (host) scaled to unit L2 norm, in place: post-processing of downloaded embeddings.
void L2Normalize(Tensor& x) {
  const int64_t rows = x.dim(0), d = x.dim(1);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = x.data<float>() + r * d;
    double ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(p[i]) * p[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss));
    for (int64_t i = 0; i < d; ++i) p[i] *= inv;
  }
}

}  // namespace

Result<ClipVisionTower> ClipVisionTower::Load(ModelLoadContext& ctx, const HfConfig& vc, const std::string& prefix) {
  ClipVisionTower t;
  ACCEL_ASSIGN_OR_RETURN(TowerSpec s, TowerFromConfig(vc));
  t.hidden_ = s.hidden;
  t.heads_ = s.heads;
  t.eps_ = s.eps;
  t.act_ = s.act;
  ACCEL_ASSIGN_OR_RETURN(t.image_, vc.Int({"image_size"}));
  ACCEL_ASSIGN_OR_RETURN(t.patch_, vc.Int({"patch_size"}));
  t.channels_ = vc.IntOr("num_channels", 3);
  if (t.patch_ <= 0 || t.image_ % t.patch_ || t.channels_ <= 0) return Corrupt(vc.label() + ": inconsistent CLIP vision sizes");
  const int64_t vh = t.hidden_;
  ACCEL_ASSIGN_OR_RETURN(t.class_emb_, ctx.F32(prefix + "embeddings.class_embedding", {vh}));
  ACCEL_ASSIGN_OR_RETURN(t.patch_w_, ctx.F32(prefix + "embeddings.patch_embedding.weight", {vh, t.channels_, t.patch_, t.patch_}));
  ACCEL_ASSIGN_OR_RETURN(t.pos_, ctx.F32(prefix + "embeddings.position_embedding.weight", {t.tokens(), vh}));
  ACCEL_ASSIGN_OR_RETURN(t.pre_ln_w_, ctx.F32(prefix + "pre_layrnorm.weight", {vh}));
  ACCEL_ASSIGN_OR_RETURN(t.pre_ln_b_, ctx.F32(prefix + "pre_layrnorm.bias", {vh}));
  ACCEL_ASSIGN_OR_RETURN(t.layers_, LoadTower(ctx, prefix, s));
  ACCEL_ASSIGN_OR_RETURN(t.post_ln_w_, ctx.F32(prefix + "post_layernorm.weight", {vh}));
  ACCEL_ASSIGN_OR_RETURN(t.post_ln_b_, ctx.F32(prefix + "post_layernorm.bias", {vh}));
  return t;
}

Result<Tensor> ClipVisionTower::HiddenState(Exec& ex, const Tensor& pixels, int64_t index) const {
  const int64_t n = layers();
  const int64_t run = index < 0 ? n + 1 + index : index;
  if (run < 0 || run > n) {
    return InvalidArgument("vision hidden state " + std::to_string(index) + " is outside the tower's " + std::to_string(n + 1));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor patches, blocks::PatchEmbed(ex, pixels, patch_w_, nullptr, patch_, image_));
  ACCEL_ASSIGN_OR_RETURN(Tensor x, blocks::PrependAndPosition(ex, {&class_emb_}, patches, pos_));
  ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(x, pre_ln_w_, &pre_ln_b_, eps_));
  blocks::LayerOptions o;
  o.eps = eps_;
  o.act = act_;
  o.attention = blocks::MultiHead(hidden_, heads_);
  for (int64_t i = 0; i < run; ++i) {
    ACCEL_ASSIGN_OR_RETURN(x, blocks::PreLnForward(ex, layers_[static_cast<size_t>(i)], x, o));
  }
  return x;
}

Result<Tensor> ClipVisionTower::Pooled(Exec& ex, const Tensor& pixels) const {
  ACCEL_ASSIGN_OR_RETURN(Tensor x, HiddenState(ex, pixels, layers()));
  ACCEL_ASSIGN_OR_RETURN(Tensor first, blocks::GatherRows(ex, x, std::vector<int64_t>(x.dim(0), 0)));
  return ex.LayerNorm(first, post_ln_w_, &post_ln_b_, eps_);
}

namespace {

class ClipModel final : public Model {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    auto m = std::unique_ptr<ClipModel>(new ClipModel());
    const HfConfig& c = ctx.config;
    m->architecture_ = c.architecture().empty() ? "CLIPModel" : c.architecture();
    if (m->architecture_ != "CLIPModel") return Unsupported(c.label() + ": architecture '" + m->architecture_ + "' (CLIPModel only)");
    const HfConfig tc = c.Sub("text_config"), vc = c.Sub("vision_config");
    ACCEL_ASSIGN_OR_RETURN(m->text_, TowerFromConfig(tc));
    ACCEL_ASSIGN_OR_RETURN(m->vocab_, tc.Int({"vocab_size"}));
    ACCEL_ASSIGN_OR_RETURN(m->max_positions_, tc.Int({"max_position_embeddings"}));
    m->eos_id_ = tc.IntOr("eos_token_id", 2);
    m->projection_ = c.IntOr("projection_dim", 512);
    if (m->projection_ <= 0 || m->vocab_ <= 0 || m->max_positions_ <= 0) {
      return Corrupt(c.label() + ": inconsistent CLIP sizes");
    }
    const int64_t th = m->text_.hidden;
    ACCEL_ASSIGN_OR_RETURN(m->token_emb_, ctx.F32("text_model.embeddings.token_embedding.weight", {m->vocab_, th}));
    ACCEL_ASSIGN_OR_RETURN(m->text_pos_, ctx.F32("text_model.embeddings.position_embedding.weight", {m->max_positions_, th}));
    ACCEL_ASSIGN_OR_RETURN(m->text_layers_, LoadTower(ctx, "text_model.", m->text_));
    ACCEL_ASSIGN_OR_RETURN(m->text_ln_w_, ctx.F32("text_model.final_layer_norm.weight", {th}));
    ACCEL_ASSIGN_OR_RETURN(m->text_ln_b_, ctx.F32("text_model.final_layer_norm.bias", {th}));
    ACCEL_ASSIGN_OR_RETURN(m->vision_, ClipVisionTower::Load(ctx, vc, "vision_model."));
    const int64_t vh = m->vision_.hidden();
    ACCEL_ASSIGN_OR_RETURN(m->text_proj_, ctx.Linear("text_projection", m->projection_, th, false));
    ACCEL_ASSIGN_OR_RETURN(m->visual_proj_, ctx.Linear("visual_projection", m->projection_, vh, false));
    ACCEL_ASSIGN_OR_RETURN(Tensor raw_scale, ctx.weights.Get("logit_scale"));
    if (raw_scale.numel() != 1) return Corrupt(ctx.weights.label() + ": logit_scale must hold one value");
    ACCEL_ASSIGN_OR_RETURN(Tensor scale, raw_scale.ToF32());
    m->logit_scale_ = scale.data<float>()[0];
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return architecture_; }
  std::vector<std::string> required_inputs() const override { return {}; }
  std::vector<std::string> optional_inputs() const override { return {"input_ids", "attention_mask", "pixel_values"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const Tensor* ids = blocks::FindInput(inputs, "input_ids");
    const Tensor* pixels = blocks::FindInput(inputs, "pixel_values");
    if (!ids && !pixels) return InvalidArgument("CLIPModel needs input_ids and/or pixel_values");
    TensorMap out;
    // The learned temperature (as stored; logits use exp of it), for zero-shot pipelines.
    ACCEL_ASSIGN_OR_RETURN(out["logit_scale"], Tensor::Zeros(DType::kF32, {1}));
    out["logit_scale"].data<float>()[0] = logit_scale_;
    Tensor text, image;
    if (ids) {
      ACCEL_ASSIGN_OR_RETURN(text, TextEmbeds(ex, *ids, blocks::FindInput(inputs, "attention_mask")));
      out["text_embeds"] = text;
    }
    if (pixels) {
      ACCEL_ASSIGN_OR_RETURN(image, ImageEmbeds(ex, *pixels));
      out["image_embeds"] = image;
    }
    if (ids && pixels) {
      const int64_t nt = text.dim(0), ni = image.dim(0), d = projection_;
      ACCEL_ASSIGN_OR_RETURN(Tensor per_image, Tensor::Zeros(DType::kF32, {ni, nt}));
      ACCEL_ASSIGN_OR_RETURN(Tensor per_text, Tensor::Zeros(DType::kF32, {nt, ni}));
      const float scale = std::exp(logit_scale_);
      for (int64_t i = 0; i < ni; ++i) {
        for (int64_t t = 0; t < nt; ++t) {
          float dot = 0;
          for (int64_t k = 0; k < d; ++k) dot += image.data<float>()[i * d + k] * text.data<float>()[t * d + k];
          per_image.data<float>()[i * nt + t] = per_text.data<float>()[t * ni + i] = scale * dot;
        }
      }
      out["logits_per_image"] = std::move(per_image);
      out["logits_per_text"] = std::move(per_text);
    }
    return out;
  }

 private:
  Result<Tensor> TextEmbeds(Exec& ex, const Tensor& ids, const Tensor* mask) {
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "input_ids"));
    const int64_t batch = ids.dim(0), seq = ids.dim(1);
    if (seq > max_positions_) {
      return InvalidArgument("text of " + std::to_string(seq) + " tokens exceeds max_position_embeddings " + std::to_string(max_positions_));
    }
    if (mask && mask->shape() != ids.shape()) return InvalidArgument("attention_mask shape differs from input_ids");
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(token_emb_, ids));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(x, text_pos_.SliceRows(0, seq), x));
    blocks::LayerOptions o;
    o.eps = text_.eps;
    o.act = text_.act;
    o.attention = blocks::MultiHead(text_.hidden, text_.heads);
    o.attention.causal = true;
    o.attention.key_padding_mask = mask;
    for (const auto& l : text_layers_) {
      ACCEL_ASSIGN_OR_RETURN(x, blocks::PreLnForward(ex, l, x, o));
    }
    ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(x, text_ln_w_, &text_ln_b_, text_.eps));
    std::vector<int64_t> pool(batch, 0);
    for (int64_t b = 0; b < batch; ++b) {
      int64_t best = 0;
      for (int64_t t = 0; t < seq; ++t) {
        const int64_t id = blocks::IdAt(ids, b * seq + t);
        if (eos_id_ == 2) {
          if (id > blocks::IdAt(ids, b * seq + best)) best = t;
        } else if (id == eos_id_) {
          best = t;
          break;
        }
      }
      pool[b] = best;  // no EOS at all: HF's argmax of a missing match is position 0
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor pooled, blocks::GatherRows(ex, x, pool));
    ACCEL_ASSIGN_OR_RETURN(Tensor proj, ex.Linear(pooled, text_proj_));
    ACCEL_ASSIGN_OR_RETURN(Tensor embeds, ex.Download(proj));
    L2Normalize(embeds);
    return embeds;
  }

  Result<Tensor> ImageEmbeds(Exec& ex, const Tensor& pixels) {
    ACCEL_ASSIGN_OR_RETURN(Tensor pooled, vision_.Pooled(ex, pixels));
    ACCEL_ASSIGN_OR_RETURN(Tensor proj, ex.Linear(pooled, visual_proj_));
    ACCEL_ASSIGN_OR_RETURN(Tensor embeds, ex.Download(proj));
    L2Normalize(embeds);
    return embeds;
  }

  std::string architecture_;
  TowerSpec text_;
  ClipVisionTower vision_;
  int64_t vocab_ = 0, max_positions_ = 0, eos_id_ = 2, projection_ = 0;
  float logit_scale_ = 0;
  Tensor token_emb_, text_pos_, text_ln_w_, text_ln_b_;
  LinearLayer text_proj_, visual_proj_;
  std::vector<blocks::TransformerLayer> text_layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadClip(ModelLoadContext& ctx) { return ClipModel::Load(ctx); }

}  // namespace accel
