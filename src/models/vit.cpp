// The ViT template: ViTModel, ViTForImageClassification and DeiTModel. DeiT is ViT with a
// second prepended token (distillation) and a position table one row longer; the pooler and the
// classifier read token 0 in both. Differences are data (prefix, tokens, heads present).
#include "models/vit.h"

#include "models/blocks.h"

namespace accel {
namespace {

struct VitSpec {
  std::string architecture, prefix;  // weight-name prefix: "", "vit." or "deit."
  int64_t hidden = 0, layers = 0, heads = 0, ffn = 0, image = 0, patch = 0, channels = 3, labels = 0;
  float eps = 1e-12f;
  Activation act = Activation::kGeluErf;
  bool distillation = false, pooler = false, classifier = false;
};

Result<VitSpec> SpecFromConfig(const HfConfig& c, const WeightStore& w) {
  VitSpec s;
  s.architecture = c.architecture();
  ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
  ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.ffn, c.Int({"intermediate_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.image, c.Int({"image_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.patch, c.Int({"patch_size"}));
  s.channels = c.IntOr("num_channels", 3);
  s.eps = static_cast<float>(c.FloatOr("layer_norm_eps", 1e-12));
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(c.StringOr("hidden_act", "gelu")));
  const bool deit = c.model_type() == "deit";
  if (s.architecture.empty()) s.architecture = deit ? "DeiTModel" : "ViTModel";
  if (s.architecture == "ViTForImageClassification") {
    s.prefix = "vit.";
    s.classifier = true;
  } else if (s.architecture != "ViTModel" && s.architecture != "DeiTModel") {
    return Unsupported(c.label() + ": architecture '" + s.architecture + "' is not supported (ViTModel, DeiTModel, ViTForImageClassification)");
  }
  s.distillation = deit;
  s.pooler = w.Has(s.prefix + "pooler.dense.weight");
  if (s.hidden > 0 && s.heads > 0 && s.hidden % s.heads) {
    return c.Contradiction("hidden_size", "is not divisible by", "num_attention_heads");
  }
  if (s.image > 0 && s.patch > 0 && s.image % s.patch) return c.Contradiction("image_size", "is not divisible by", "patch_size");
  if (s.hidden <= 0 || s.heads <= 0 || s.layers <= 0 || s.layers > 1000 || s.ffn <= 0 ||
      s.patch <= 0 || s.image <= 0 || s.image % s.patch || s.channels <= 0) {
    return Corrupt(c.label() + ": inconsistent ViT sizes");
  }
  return s;
}

class VitModel final : public Model {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    auto m = std::unique_ptr<VitModel>(new VitModel());
    ACCEL_ASSIGN_OR_RETURN(m->s_, SpecFromConfig(ctx.config, ctx.weights));
    const VitSpec& s = m->s_;
    const std::string e = s.prefix + "embeddings.";
    const int64_t h = s.hidden, grid = s.image / s.patch, tokens = grid * grid + 1 + (s.distillation ? 1 : 0);
    ACCEL_ASSIGN_OR_RETURN(m->cls_, ctx.F32(e + "cls_token", {1, 1, h}));
    if (s.distillation) {
      ACCEL_ASSIGN_OR_RETURN(m->dist_, ctx.F32(e + "distillation_token", {1, 1, h}));
    }
    ACCEL_ASSIGN_OR_RETURN(m->pos_, ctx.F32(e + "position_embeddings", {1, tokens, h}));
    ACCEL_ASSIGN_OR_RETURN(m->patch_w_, ctx.F32(e + "patch_embeddings.projection.weight", {h, s.channels, s.patch, s.patch}));
    ACCEL_ASSIGN_OR_RETURN(m->patch_b_, ctx.F32(e + "patch_embeddings.projection.bias", {h}));
    for (int64_t i = 0; i < s.layers; ++i) {
      const std::string p = s.prefix + "encoder.layer." + std::to_string(i) + ".";
      blocks::LayerNames n{p + "layernorm_before", p + "attention.attention.query", p + "attention.attention.key",
                           p + "attention.attention.value", p + "attention.output.dense", p + "layernorm_after",
                           p + "intermediate.dense", p + "output.dense"};
      ACCEL_ASSIGN_OR_RETURN(auto layer, blocks::LoadLayer(ctx, n, h, s.ffn));
      m->layers_.push_back(std::move(layer));
    }
    ACCEL_ASSIGN_OR_RETURN(m->ln_w_, ctx.F32(s.prefix + "layernorm.weight", {h}));
    ACCEL_ASSIGN_OR_RETURN(m->ln_b_, ctx.F32(s.prefix + "layernorm.bias", {h}));
    if (s.pooler) {
      ACCEL_ASSIGN_OR_RETURN(m->pooler_, ctx.Linear(s.prefix + "pooler.dense", h, h));
    }
    if (s.classifier) {
      m->s_.labels = ctx.weights.Has("classifier.weight") ? 0 : -1;
      if (m->s_.labels < 0) return Corrupt(ctx.weights.label() + ": ViTForImageClassification without classifier.weight");
      ACCEL_ASSIGN_OR_RETURN(Tensor cw, ctx.weights.Get("classifier.weight"));
      if (cw.rank() != 2 || cw.dim(1) != h) return Corrupt(ctx.weights.label() + ": classifier.weight shape " + ShapeToString(cw.shape()));
      m->s_.labels = cw.dim(0);
      ACCEL_ASSIGN_OR_RETURN(m->classifier_, ctx.Linear("classifier", m->s_.labels, h));
    }
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return s_.architecture; }
  std::vector<std::string> required_inputs() const override { return {"pixel_values"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const VitSpec& s = s_;
    const Tensor* pixels = blocks::FindInput(inputs, "pixel_values");
    if (!pixels) return InvalidArgument("missing input 'pixel_values'");
    ACCEL_ASSIGN_OR_RETURN(Tensor patches, blocks::PatchEmbed(ex, *pixels, patch_w_, &patch_b_, s.patch, s.image));
    std::vector<const Tensor*> prefix = {&cls_};
    if (s.distillation) prefix.push_back(&dist_);
    ACCEL_ASSIGN_OR_RETURN(Tensor x, blocks::PrependAndPosition(ex, prefix, patches, pos_));
    blocks::LayerOptions o;
    o.eps = s.eps;
    o.act = s.act;
    o.attention = blocks::MultiHead(s.hidden, s.heads);
    for (const auto& l : layers_) {
      ACCEL_ASSIGN_OR_RETURN(x, blocks::PreLnForward(ex, l, x, o));
    }
    ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(x, ln_w_, &ln_b_, s.eps));
    TensorMap out;
    ACCEL_ASSIGN_OR_RETURN(Tensor first, blocks::GatherRows(ex, x, std::vector<int64_t>(x.dim(0), 0)));
    if (s.classifier) {
      ACCEL_ASSIGN_OR_RETURN(Tensor logits, ex.Linear(first, classifier_));
      ACCEL_ASSIGN_OR_RETURN(out["logits"], ex.Download(logits));
      return out;
    }
    ACCEL_ASSIGN_OR_RETURN(out["last_hidden_state"], ex.Download(x));
    if (s.pooler) {
      ACCEL_ASSIGN_OR_RETURN(Tensor pooled, ex.Linear(first, pooler_, Activation::kTanh));
      ACCEL_ASSIGN_OR_RETURN(out["pooler_output"], ex.Download(pooled));
    }
    return out;
  }

 private:
  VitSpec s_;
  Tensor cls_, dist_, pos_, patch_w_, patch_b_, ln_w_, ln_b_;
  LinearLayer pooler_, classifier_;
  std::vector<blocks::TransformerLayer> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadVit(ModelLoadContext& ctx) { return VitModel::Load(ctx); }

}  // namespace accel
