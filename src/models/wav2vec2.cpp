// Wav2Vec2Model / Wav2Vec2ForCTC: a strided Conv1d feature encoder over the raw waveform
// (feat_extract_norm "group": GroupNorm with one group per channel on the first conv only;
// "layer": LayerNorm over channels after every conv), a feature projection, a grouped
// positional convolution (weight-normalised, folded into a plain weight at load), and a
// transformer that is post-LN (do_stable_layer_norm false) or pre-LN (true).
#include "models/wav2vec2.h"

#include <cmath>

#include "models/blocks.h"

namespace accel {
namespace {

struct ConvLayer {
  Tensor weight, bias, norm_w, norm_b;  // bias / norm may be undefined
  int stride = 1;
};

class Wav2Vec2 final : public Model {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    const HfConfig& c = ctx.config;
    auto m = std::unique_ptr<Wav2Vec2>(new Wav2Vec2());
    m->architecture_ = c.architecture().empty() ? "Wav2Vec2Model" : c.architecture();
    const bool ctc = m->architecture_ == "Wav2Vec2ForCTC";
    if (!ctc && m->architecture_ != "Wav2Vec2Model") {
      return Unsupported(c.label() + ": architecture '" + m->architecture_ + "' (Wav2Vec2Model, Wav2Vec2ForCTC)");
    }
    const std::string pre = ctx.weights.Has("wav2vec2.feature_projection.projection.weight") ? "wav2vec2." : "";
    ACCEL_ASSIGN_OR_RETURN(m->hidden_, c.Int({"hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t layers, c.Int({"num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(m->heads_, c.Int({"num_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t ffn, c.Int({"intermediate_size"}));
    m->eps_ = static_cast<float>(c.FloatOr("layer_norm_eps", 1e-5));
    ACCEL_ASSIGN_OR_RETURN(m->act_, ActivationFromHf(c.StringOr("hidden_act", "gelu")));
    ACCEL_ASSIGN_OR_RETURN(m->feat_act_, ActivationFromHf(c.StringOr("feat_extract_activation", "gelu")));
    const std::string norm = c.StringOr("feat_extract_norm", "group");
    if (norm != "group" && norm != "layer") return Unsupported(c.label() + ": feat_extract_norm '" + norm + "'");
    m->layer_norm_features_ = norm == "layer";
    m->stable_ = c.BoolOr("do_stable_layer_norm", false);
    const bool conv_bias = c.BoolOr("conv_bias", false);
    if (c.BoolOr("add_adapter", false) || c.BoolOr("use_weighted_layer_sum", false)) {
      return Unsupported(c.label() + ": add_adapter / use_weighted_layer_sum are not supported");
    }
    const auto& doc = c.doc();
    if (!doc.contains("conv_dim") || !doc["conv_dim"].is_array() || !doc.contains("conv_stride") ||
        !doc.contains("conv_kernel") || doc["conv_dim"].size() != doc["conv_stride"].size() ||
        doc["conv_dim"].size() != doc["conv_kernel"].size() || doc["conv_dim"].empty() || doc["conv_dim"].size() > 64) {
      return Corrupt(c.label() + ": conv_dim / conv_stride / conv_kernel must be arrays of one length");
    }
    if (m->hidden_ > 0 && m->heads_ > 0 && m->hidden_ % m->heads_) {
      return c.Contradiction("hidden_size", "is not divisible by", "num_attention_heads");
    }
    if (m->hidden_ <= 0 || m->heads_ <= 0 || layers <= 0 || layers > 1000 || ffn <= 0) {
      return Corrupt(c.label() + ": inconsistent Wav2Vec2 sizes");
    }
    int64_t in_ch = 1;
    for (size_t i = 0; i < doc["conv_dim"].size(); ++i) {
      const auto& d = doc["conv_dim"][i];
      const auto& st = doc["conv_stride"][i];
      const auto& k = doc["conv_kernel"][i];
      if (!d.is_number_integer() || !st.is_number_integer() || !k.is_number_integer() || d.get<int64_t>() <= 0 ||
          st.get<int64_t>() <= 0 || k.get<int64_t>() <= 0) {
        return Corrupt(c.label() + ": conv_dim/conv_stride/conv_kernel[" + std::to_string(i) + "] must be positive integers");
      }
      const int64_t out_ch = d.get<int64_t>();
      const std::string p = pre + "feature_extractor.conv_layers." + std::to_string(i) + ".";
      ConvLayer l;
      l.stride = static_cast<int>(st.get<int64_t>());
      ACCEL_ASSIGN_OR_RETURN(l.weight, ctx.F32(p + "conv.weight", {out_ch, in_ch, k.get<int64_t>()}));
      if (conv_bias) {
        ACCEL_ASSIGN_OR_RETURN(l.bias, ctx.F32(p + "conv.bias", {out_ch}));
      }
      if (m->layer_norm_features_ || i == 0) {
        ACCEL_ASSIGN_OR_RETURN(l.norm_w, ctx.F32(p + "layer_norm.weight", {out_ch}));
        ACCEL_ASSIGN_OR_RETURN(l.norm_b, ctx.F32(p + "layer_norm.bias", {out_ch}));
      }
      m->convs_.push_back(std::move(l));
      in_ch = out_ch;
    }
    const int64_t h = m->hidden_;
    ACCEL_ASSIGN_OR_RETURN(m->proj_ln_w_, ctx.F32(pre + "feature_projection.layer_norm.weight", {in_ch}));
    ACCEL_ASSIGN_OR_RETURN(m->proj_ln_b_, ctx.F32(pre + "feature_projection.layer_norm.bias", {in_ch}));
    ACCEL_ASSIGN_OR_RETURN(m->proj_, ctx.Linear(pre + "feature_projection.projection", h, in_ch));
    ACCEL_RETURN_IF_ERROR(m->LoadPositionalConv(ctx, pre + "encoder.pos_conv_embed.conv."));
    ACCEL_ASSIGN_OR_RETURN(m->enc_ln_w_, ctx.F32(pre + "encoder.layer_norm.weight", {h}));
    ACCEL_ASSIGN_OR_RETURN(m->enc_ln_b_, ctx.F32(pre + "encoder.layer_norm.bias", {h}));
    for (int64_t i = 0; i < layers; ++i) {
      const std::string p = pre + "encoder.layers." + std::to_string(i) + ".";
      blocks::LayerNames n{p + "layer_norm", p + "attention.q_proj", p + "attention.k_proj", p + "attention.v_proj",
                           p + "attention.out_proj", p + "final_layer_norm", p + "feed_forward.intermediate_dense",
                           p + "feed_forward.output_dense"};
      ACCEL_ASSIGN_OR_RETURN(auto layer, blocks::LoadLayer(ctx, n, h, ffn));
      m->layers_.push_back(std::move(layer));
    }
    // SpecAugment's learned mask vector only matters in training; mark it as read.
    if (ctx.weights.Has(pre + "masked_spec_embed")) ACCEL_RETURN_IF_ERROR(ctx.weights.Get(pre + "masked_spec_embed").status());
    if (ctc) {
      ACCEL_ASSIGN_OR_RETURN(int64_t vocab, c.Int({"vocab_size"}));
      ACCEL_ASSIGN_OR_RETURN(m->lm_head_, ctx.Linear("lm_head", vocab, h));
      m->ctc_ = true;
    }
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return architecture_; }
  std::vector<std::string> required_inputs() const override { return {"input_values"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const Tensor* wave = blocks::FindInput(inputs, "input_values");
    if (!wave) return InvalidArgument("missing input 'input_values'");
    if (wave->dtype() != DType::kF32 || wave->rank() != 2 || wave->dim(0) <= 0) {
      return InvalidArgument("input_values must be f32 [batch, samples], got " + ShapeToString(wave->shape()));
    }
    const int64_t batch = wave->dim(0);
    ACCEL_ASSIGN_OR_RETURN(Tensor x, wave->Reshape({batch, 1, wave->dim(1)}));
    for (size_t i = 0; i < convs_.size(); ++i) {
      ACCEL_ASSIGN_OR_RETURN(x, FeatureConv(ex, convs_[i], x, i == 0));
    }
    // [B, C, T] -> [B, T, C] -> LayerNorm -> projection to hidden.
    ACCEL_ASSIGN_OR_RETURN(Tensor feats, ex.TransposeLast2(x));
    ACCEL_ASSIGN_OR_RETURN(feats, ex.LayerNorm(feats, proj_ln_w_, &proj_ln_b_, eps_));
    ACCEL_ASSIGN_OR_RETURN(Tensor hs, ex.Linear(feats, proj_));
    ACCEL_ASSIGN_OR_RETURN(Tensor pos, PositionalConv(ex, hs));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(hs, pos, hs));
    blocks::LayerOptions o;
    o.eps = eps_;
    o.act = act_;
    o.attention = blocks::MultiHead(hidden_, heads_);
    if (stable_) {
      for (const auto& l : layers_) {
        ACCEL_ASSIGN_OR_RETURN(hs, blocks::PreLnForward(ex, l, hs, o));
      }
      ACCEL_ASSIGN_OR_RETURN(hs, ex.LayerNorm(hs, enc_ln_w_, &enc_ln_b_, eps_));
    } else {
      ACCEL_ASSIGN_OR_RETURN(hs, ex.LayerNorm(hs, enc_ln_w_, &enc_ln_b_, eps_));
      for (const auto& l : layers_) {
        ACCEL_ASSIGN_OR_RETURN(hs, blocks::PostLnForward(ex, l, hs, o));
      }
    }
    TensorMap out;
    ACCEL_ASSIGN_OR_RETURN(out["last_hidden_state"], ex.Download(hs));
    if (ctc_) {
      ACCEL_ASSIGN_OR_RETURN(Tensor logits, ex.Linear(hs, lm_head_));
      ACCEL_ASSIGN_OR_RETURN(out["logits"], ex.Download(logits));
    }
    return out;
  }

 private:
  // w = g * v / ||v||, the norm over (out, in) for each kernel tap (torch weight_norm, dim=2).
  Status LoadPositionalConv(ModelLoadContext& ctx, const std::string& p) {
    const HfConfig& c = ctx.config;
    const int64_t h = hidden_;
    pos_k_ = c.IntOr("num_conv_pos_embeddings", 128);
    pos_groups_ = static_cast<int>(c.IntOr("num_conv_pos_embedding_groups", 16));
    if (pos_k_ <= 0 || pos_groups_ <= 0 || h % pos_groups_) return Corrupt(c.label() + ": positional conv sizes");
    const int64_t in_g = h / pos_groups_;
    ACCEL_ASSIGN_OR_RETURN(Tensor g, ctx.F32(p + "weight_g", {1, 1, pos_k_}));
    ACCEL_ASSIGN_OR_RETURN(Tensor v, ctx.F32(p + "weight_v", {h, in_g, pos_k_}));
    ACCEL_ASSIGN_OR_RETURN(pos_bias_, ctx.F32(p + "bias", {h}));
    ACCEL_ASSIGN_OR_RETURN(pos_w_, Tensor::Zeros(DType::kF32, {h, in_g, pos_k_}));
    const float* vp = v.data<float>();
    for (int64_t k = 0; k < pos_k_; ++k) {
      double ss = 0;
      for (int64_t r = 0; r < h * in_g; ++r) ss += static_cast<double>(vp[r * pos_k_ + k]) * vp[r * pos_k_ + k];
      const double scale = ss > 0 ? g.data<float>()[k] / std::sqrt(ss) : 0.0;
      for (int64_t r = 0; r < h * in_g; ++r) pos_w_.data<float>()[r * pos_k_ + k] = static_cast<float>(vp[r * pos_k_ + k] * scale);
    }
    return Status::Ok();
  }

  Result<Tensor> FeatureConv(Exec& ex, const ConvLayer& l, const Tensor& x, bool first) {
    const int64_t cout = l.weight.dim(0), k = l.weight.dim(2);
    if (x.dim(2) < k) return InvalidArgument("audio too short for the feature encoder (" + std::to_string(x.dim(2)) + " samples left, kernel " + std::to_string(k) + ")");
    ACCEL_ASSIGN_OR_RETURN(Tensor y, ex.Conv1d(x, l.weight, l.bias.defined() ? &l.bias : nullptr, l.stride, 0, 1));
    if (layer_norm_features_) {
      ACCEL_ASSIGN_OR_RETURN(Tensor t, ex.TransposeLast2(y));
      ACCEL_ASSIGN_OR_RETURN(t, ex.LayerNorm(t, l.norm_w, &l.norm_b, eps_));
      ACCEL_ASSIGN_OR_RETURN(y, ex.TransposeLast2(t));
    } else if (first) {
      ACCEL_ASSIGN_OR_RETURN(y, ex.GroupNorm(y, static_cast<int>(cout), l.norm_w, &l.norm_b, eps_));
    }
    ACCEL_RETURN_IF_ERROR(ex.Activate(feat_act_, y));
    return y;
  }

  // hs [B, T, H] -> GELU(conv(hs^T)) ^T, trimming the extra frame an even kernel produces.
  Result<Tensor> PositionalConv(Exec& ex, const Tensor& hs) {
    const int64_t batch = hs.dim(0), t = hs.dim(1), h = hs.dim(2);
    ACCEL_ASSIGN_OR_RETURN(Tensor ch, ex.TransposeLast2(hs));
    const int pad = static_cast<int>(pos_k_ / 2);
    ACCEL_ASSIGN_OR_RETURN(Tensor conv, ex.Conv1d(ch, pos_w_, &pos_bias_, 1, pad, pos_groups_));
    ACCEL_ASSIGN_OR_RETURN(Tensor trimmed, ex.Alloc({batch, h, t}));
    ACCEL_RETURN_IF_ERROR(ex.Copy(conv.Columns(0, t), trimmed));
    ACCEL_RETURN_IF_ERROR(ex.Activate(Activation::kGeluErf, trimmed));
    return ex.TransposeLast2(trimmed);
  }

  std::string architecture_;
  int64_t hidden_ = 0, heads_ = 0, pos_k_ = 0;
  int pos_groups_ = 1;
  float eps_ = 1e-5f;
  Activation act_ = Activation::kGeluErf, feat_act_ = Activation::kGeluErf;
  bool layer_norm_features_ = false, stable_ = false, ctc_ = false;
  std::vector<ConvLayer> convs_;
  Tensor proj_ln_w_, proj_ln_b_, pos_w_, pos_bias_, enc_ln_w_, enc_ln_b_;
  LinearLayer proj_, lm_head_;
  std::vector<blocks::TransformerLayer> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadWav2Vec2(ModelLoadContext& ctx) { return Wav2Vec2::Load(ctx); }

}  // namespace accel
