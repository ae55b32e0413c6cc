// DETR (HF DetrForObjectDetection, use_timm_backbone: false): an HF ResNet backbone whose batch
// norms are frozen (folded into the convolutions here, at load), the last stage's feature map
// projected by a 1x1 convolution (a Linear over the flattened positions), a post-norm transformer
// encoder over the positions and a post-norm decoder over `num_queries` object queries, then a
// class head (num_labels + 1, the last being "no object") and a 3-layer MLP box head with a
// sigmoid (normalised cx, cy, w, h).
//
// Positions: the pixel mask is downsampled to the feature map (nearest), and the normalised sine
// embedding of its cumulative sums is added to the queries and keys (never the values) of the
// encoder's self-attention and to the keys of the decoder's cross-attention; the learned query
// position embeddings are added to the decoder's queries (self and cross) and self-attention keys.
// The downsampled mask is also the key padding mask of the encoder and of the cross-attention.
// Both depend on the request's mask only, so they are computed on the host and uploaded once.
#include "models/detr.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "models/blocks.h"

namespace accel {
namespace {

constexpr float kFrozenBatchNormEps = 1e-5f;  // DetrFrozenBatchNorm2d
constexpr float kLayerNormEps = 1e-5f;         // nn.LayerNorm's default in DETR's layers

struct ResNetSpec {
  int64_t channels = 3, embedding = 64;
  std::vector<int64_t> hidden, depths;
  bool bottleneck = true, downsample_in_first_stage = false, downsample_in_bottleneck = false;
  Activation act = Activation::kRelu;
  int64_t last_stage = 0;  // the feature map DETR reads: 0 = stem, s = stage s
};

struct DetrSpec {
  std::string architecture;
  int64_t d_model = 0, encoder_layers = 0, decoder_layers = 0, encoder_heads = 0, decoder_heads = 0;
  int64_t encoder_ffn = 0, decoder_ffn = 0, queries = 0, classes = 0;  // classes = num_labels + 1
  Activation act = Activation::kRelu;
  ResNetSpec backbone;
};

Result<std::vector<int64_t>> IntList(const HfConfig& c, const std::string& key, std::vector<int64_t> fallback) {
  const nlohmann::json& d = c.doc();
  if (!d.contains(key) || d[key].is_null()) return fallback;
  if (!d[key].is_array() || d[key].empty()) return Corrupt(c.label() + ": '" + key + "' must be a non-empty list of integers");
  std::vector<int64_t> out;
  for (const auto& v : d[key]) {
    if (!v.is_number_integer()) return Corrupt(c.label() + ": '" + key + "' must be a list of integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

// The stage whose output DETR takes: the last of out_indices, or of out_features ("stem",
// "stage1", ...), else the last stage (HF's default backbone config asks for the last stage).
Result<int64_t> LastStage(const HfConfig& b, int64_t stages) {
  const nlohmann::json& d = b.doc();
  int64_t last = -1;
  if (d.contains("out_indices") && d["out_indices"].is_array() && !d["out_indices"].empty()) {
    ACCEL_ASSIGN_OR_RETURN(auto idx, IntList(b, "out_indices", {}));
    last = *std::max_element(idx.begin(), idx.end());
  } else if (d.contains("out_features") && d["out_features"].is_array() && !d["out_features"].empty()) {
    for (const auto& f : d["out_features"]) {
      const std::string name = f.is_string() ? f.get<std::string>() : "";
      int64_t s = -1;
      if (name == "stem") s = 0;
      else if (name.rfind("stage", 0) == 0 && name.size() > 5 && name.find_first_not_of("0123456789", 5) == std::string::npos) s = std::stoll(name.substr(5));
      if (s < 0) return Corrupt(b.label() + ": out_features entry '" + name + "' is not 'stem' or 'stageN'");
      last = std::max(last, s);
    }
  } else {
    last = stages;
  }
  if (last < 0 || last > stages) return Corrupt(b.label() + ": backbone output stage " + std::to_string(last) + " of " + std::to_string(stages));
  return last;
}

Result<ResNetSpec> BackboneFromConfig(const HfConfig& c) {
  if (c.BoolOr("use_timm_backbone", true)) {
    return Unsupported(c.label() + ": DETR with a timm backbone (use_timm_backbone: true) is not supported; an HF ResNet backbone_config is");
  }
  const nlohmann::json& d = c.doc();
  if (d.contains("dilation") && d["dilation"].is_boolean() && d["dilation"].get<bool>()) {
    return Unsupported(c.label() + ": DETR with a dilated backbone (dilation: true) is not supported");
  }
  // No backbone_config: HF's default ResNet (resnet-50 sizes), last stage.
  const HfConfig b = c.Sub("backbone_config");
  const std::string type = b.StringOr("model_type", "resnet");
  if (type != "resnet") return Unsupported(c.label() + ": DETR backbone '" + type + "' is not supported (resnet)");
  ResNetSpec s;
  s.channels = b.IntOr("num_channels", 3);
  s.embedding = b.IntOr("embedding_size", 64);
  ACCEL_ASSIGN_OR_RETURN(s.hidden, IntList(b, "hidden_sizes", {256, 512, 1024, 2048}));
  ACCEL_ASSIGN_OR_RETURN(s.depths, IntList(b, "depths", {3, 4, 6, 3}));
  const std::string layer_type = b.StringOr("layer_type", "bottleneck");
  if (layer_type != "basic" && layer_type != "bottleneck") {
    return Corrupt(b.label() + ": layer_type '" + layer_type + "' is not 'basic' or 'bottleneck'");
  }
  s.bottleneck = layer_type == "bottleneck";
  s.downsample_in_first_stage = b.BoolOr("downsample_in_first_stage", false);
  s.downsample_in_bottleneck = b.BoolOr("downsample_in_bottleneck", false);
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(b.StringOr("hidden_act", "relu")));
  if (s.hidden.size() != s.depths.size() || s.hidden.size() > 16 || s.channels <= 0 || s.embedding <= 0) {
    return Corrupt(b.label() + ": ResNet hidden_sizes and depths disagree");
  }
  for (size_t i = 0; i < s.hidden.size(); ++i) {
    if (s.hidden[i] <= 0 || s.depths[i] <= 0 || s.depths[i] > 1000 || (s.bottleneck && s.hidden[i] % 4)) {
      return Corrupt(b.label() + ": ResNet stage " + std::to_string(i + 1) + " sizes");
    }
  }
  ACCEL_ASSIGN_OR_RETURN(s.last_stage, LastStage(b, static_cast<int64_t>(s.hidden.size())));
  return s;
}

Result<DetrSpec> SpecFromConfig(const HfConfig& c) {
  DetrSpec s;
  s.architecture = c.architecture().empty() ? "DetrForObjectDetection" : c.architecture();
  if (s.architecture != "DetrForObjectDetection") {
    return Unsupported(c.label() + ": architecture '" + s.architecture + "' is not supported (DetrForObjectDetection)");
  }
  ACCEL_ASSIGN_OR_RETURN(s.d_model, c.Int({"d_model"}));
  ACCEL_ASSIGN_OR_RETURN(s.encoder_layers, c.Int({"encoder_layers"}));
  ACCEL_ASSIGN_OR_RETURN(s.decoder_layers, c.Int({"decoder_layers"}));
  ACCEL_ASSIGN_OR_RETURN(s.encoder_heads, c.Int({"encoder_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.decoder_heads, c.Int({"decoder_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.encoder_ffn, c.Int({"encoder_ffn_dim"}));
  ACCEL_ASSIGN_OR_RETURN(s.decoder_ffn, c.Int({"decoder_ffn_dim"}));
  ACCEL_ASSIGN_OR_RETURN(s.queries, c.Int({"num_queries"}));
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(c.StringOr("activation_function", "relu")));
  const std::string pos = c.StringOr("position_embedding_type", "sine");
  if (pos != "sine") return Unsupported(c.label() + ": position_embedding_type '" + pos + "' is not supported (sine)");
  if (s.d_model <= 0 || s.d_model % 2 || s.encoder_heads <= 0 || s.decoder_heads <= 0 || s.d_model % s.encoder_heads ||
      s.d_model % s.decoder_heads || s.encoder_layers < 0 || s.encoder_layers > 1000 || s.decoder_layers <= 0 ||
      s.decoder_layers > 1000 || s.encoder_ffn <= 0 || s.decoder_ffn <= 0 || s.queries <= 0) {
    return Corrupt(c.label() + ": inconsistent DETR sizes");
  }
  ACCEL_ASSIGN_OR_RETURN(s.backbone, BackboneFromConfig(c));
  return s;
}

// A convolution with its frozen batch norm folded in: y = conv(x, w * scale) + (b - mean * scale),
// scale = gamma / sqrt(running_var + eps) per output channel.
struct ConvBn {
  Tensor w, b;
  int stride = 1, padding = 0;
};

Result<ConvBn> LoadConvBn(ModelLoadContext& ctx, const std::string& p, int64_t out, int64_t in, int64_t kernel, int stride) {
  ACCEL_ASSIGN_OR_RETURN(Tensor w, ctx.F32(p + "convolution.weight", {out, in, kernel, kernel}));
  ACCEL_ASSIGN_OR_RETURN(Tensor gamma, ctx.F32(p + "normalization.weight", {out}));
  ACCEL_ASSIGN_OR_RETURN(Tensor beta, ctx.F32(p + "normalization.bias", {out}));
  ACCEL_ASSIGN_OR_RETURN(Tensor mean, ctx.F32(p + "normalization.running_mean", {out}));
  ACCEL_ASSIGN_OR_RETURN(Tensor var, ctx.F32(p + "normalization.running_var", {out}));
  if (ctx.weights.Has(p + "normalization.num_batches_tracked")) {  // a training counter: read and ignored
    ACCEL_RETURN_IF_ERROR(ctx.weights.Get(p + "normalization.num_batches_tracked").status());
  }
  ConvBn c;
  c.stride = stride;
  c.padding = static_cast<int>(kernel / 2);
  ACCEL_ASSIGN_OR_RETURN(c.w, Tensor::Zeros(DType::kF32, {out, in, kernel, kernel}));
  ACCEL_ASSIGN_OR_RETURN(c.b, Tensor::Zeros(DType::kF32, {out}));
  const int64_t per_out = in * kernel * kernel;
  const float *src = w.data<float>(), *g = gamma.data<float>(), *bt = beta.data<float>(), *m = mean.data<float>(),
              *v = var.data<float>();
  float *dst = c.w.data<float>(), *bias = c.b.data<float>();
  for (int64_t o = 0; o < out; ++o) {
    if (!(v[o] + kFrozenBatchNormEps > 0.0f)) {
      return Corrupt(ctx.weights.label() + ": " + p + "normalization.running_var[" + std::to_string(o) + "] is not above -eps");
    }
    const float scale = g[o] / std::sqrt(v[o] + kFrozenBatchNormEps);
    for (int64_t i = 0; i < per_out; ++i) dst[o * per_out + i] = src[o * per_out + i] * scale;
    bias[o] = bt[o] - m[o] * scale;
  }
  return c;
}

// One ResNet layer: basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1), projection shortcut when
// the width or the stride changes, then the residual sum and the activation.
struct ResLayer {
  std::vector<ConvBn> convs;
  bool has_shortcut = false;
  ConvBn shortcut;
};

struct Norm {
  Tensor w, b;
};

Result<Norm> LoadNorm(ModelLoadContext& ctx, const std::string& name, int64_t d) {
  Norm n;
  ACCEL_ASSIGN_OR_RETURN(n.w, ctx.F32(name + ".weight", {d}));
  ACCEL_ASSIGN_OR_RETURN(n.b, ctx.F32(name + ".bias", {d}));
  return n;
}

// An encoder layer, or a decoder layer (which adds the cross-attention).
struct TransformerLayer {
  // q and k read x + position, v reads x. (Separate projections: the attention kernels take k and
  // v with one row stride, so q|k cannot be one fused projection beside a dense v.)
  LinearLayer self_q, self_k, self_v, self_out;
  Norm self_norm;
  LinearLayer cross_q, cross_k, cross_v, cross_out;
  Norm cross_norm;
  LinearLayer fc1, fc2;
  Norm final_norm;
};

Result<TransformerLayer> LoadTransformerLayer(ModelLoadContext& ctx, const std::string& p, int64_t d, int64_t ffn, bool decoder) {
  TransformerLayer l;
  ACCEL_ASSIGN_OR_RETURN(l.self_q, ctx.Linear(p + "self_attn.q_proj", d, d));
  ACCEL_ASSIGN_OR_RETURN(l.self_k, ctx.Linear(p + "self_attn.k_proj", d, d));
  ACCEL_ASSIGN_OR_RETURN(l.self_v, ctx.Linear(p + "self_attn.v_proj", d, d));
  ACCEL_ASSIGN_OR_RETURN(l.self_out, ctx.Linear(p + "self_attn.out_proj", d, d));
  ACCEL_ASSIGN_OR_RETURN(l.self_norm, LoadNorm(ctx, p + "self_attn_layer_norm", d));
  if (decoder) {
    ACCEL_ASSIGN_OR_RETURN(l.cross_q, ctx.Linear(p + "encoder_attn.q_proj", d, d));
    ACCEL_ASSIGN_OR_RETURN(l.cross_k, ctx.Linear(p + "encoder_attn.k_proj", d, d));
    ACCEL_ASSIGN_OR_RETURN(l.cross_v, ctx.Linear(p + "encoder_attn.v_proj", d, d));
    ACCEL_ASSIGN_OR_RETURN(l.cross_out, ctx.Linear(p + "encoder_attn.out_proj", d, d));
    ACCEL_ASSIGN_OR_RETURN(l.cross_norm, LoadNorm(ctx, p + "encoder_attn_layer_norm", d));
  }
  ACCEL_ASSIGN_OR_RETURN(l.fc1, ctx.Linear(p + "fc1", ffn, d));
  ACCEL_ASSIGN_OR_RETURN(l.fc2, ctx.Linear(p + "fc2", d, ffn));
  ACCEL_ASSIGN_OR_RETURN(l.final_norm, LoadNorm(ctx, p + "final_layer_norm", d));
  return l;
}

// The key padding mask and the sine position embedding of one request, on the host.
struct MaskAndPositions {
  Tensor key_mask;   // i64 [B, h * w], 1 = a real pixel
  Tensor positions;  // f32 [B, h * w, d_model]: (pos_y, pos_x), each sin/cos interleaved
};

// pixel_mask [B, H, W] (null: every pixel real) downsampled to [h, w] as F.interpolate(mode=
// 'nearest') does (source index floor(i * H / h) in float), then DetrSinePositionEmbedding with
// normalize=True: the cumulative sums of the mask along y and x, divided by the last sum + 1e-6,
// times 2 pi; channel i of each half is sin (even i) or cos (odd i) of embed / 10000^(2 floor(i/2) / half).
Result<MaskAndPositions> MaskAndPositionsFor(const Tensor* pixel_mask, int64_t batch, int64_t height, int64_t width, int64_t h,
                                             int64_t w, int64_t d_model) {
  std::vector<uint8_t> small(static_cast<size_t>(batch * h * w), 1);
  if (pixel_mask) {
    const float sy = static_cast<float>(height) / static_cast<float>(h), sx = static_cast<float>(width) / static_cast<float>(w);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < h; ++i) {
        const int64_t si = std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<float>(i) * sy)), height - 1);
        for (int64_t j = 0; j < w; ++j) {
          const int64_t sj = std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<float>(j) * sx)), width - 1);
          const size_t at = static_cast<size_t>((b * height + si) * width + sj);
          const bool real = pixel_mask->dtype() == DType::kI64 ? pixel_mask->data<int64_t>()[at] != 0
                                                               : pixel_mask->data<int32_t>()[at] != 0;
          small[static_cast<size_t>((b * h + i) * w + j)] = real ? 1 : 0;
        }
      }
    }
  }
  MaskAndPositions out;
  ACCEL_ASSIGN_OR_RETURN(out.key_mask, Tensor::Zeros(DType::kI64, {batch, h * w}));
  ACCEL_ASSIGN_OR_RETURN(out.positions, Tensor::Zeros(DType::kF32, {batch, h * w, d_model}));
  const int64_t half = d_model / 2;
  std::vector<float> dim_t(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    dim_t[i] = std::pow(10000.0f, static_cast<float>(2 * (i / 2)) / static_cast<float>(half));
  }
  const float two_pi = static_cast<float>(2.0 * std::numbers::pi);
  std::vector<float> ycum(static_cast<size_t>(h * w)), xcum(static_cast<size_t>(h * w));
  int64_t* km = out.key_mask.data<int64_t>();
  float* pos = out.positions.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    const uint8_t* m = small.data() + b * h * w;
    for (int64_t i = 0; i < h; ++i) {
      for (int64_t j = 0; j < w; ++j) {
        ycum[i * w + j] = (i ? ycum[(i - 1) * w + j] : 0.0f) + m[i * w + j];
        xcum[i * w + j] = (j ? xcum[i * w + j - 1] : 0.0f) + m[i * w + j];
      }
    }
    for (int64_t i = 0; i < h; ++i) {
      for (int64_t j = 0; j < w; ++j) {
        const int64_t t = i * w + j;
        km[b * h * w + t] = m[t];
        const float ye = ycum[t] / (ycum[(h - 1) * w + j] + 1e-6f) * two_pi;
        const float xe = xcum[t] / (xcum[i * w + w - 1] + 1e-6f) * two_pi;
        float* row = pos + (b * h * w + t) * d_model;
        for (int64_t c = 0; c < half; ++c) {
          const float yv = ye / dim_t[c], xv = xe / dim_t[c];
          row[c] = c % 2 ? std::cos(yv) : std::sin(yv);
          row[half + c] = c % 2 ? std::cos(xv) : std::sin(xv);
        }
      }
    }
  }
  return out;
}

class DetrModel final : public Model {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    auto m = std::unique_ptr<DetrModel>(new DetrModel());
    ACCEL_ASSIGN_OR_RETURN(m->s_, SpecFromConfig(ctx.config));
    DetrSpec& s = m->s_;
    const ResNetSpec& r = s.backbone;
    const int64_t d = s.d_model;

    const std::string bb = "model.backbone.conv_encoder.model.";
    ACCEL_ASSIGN_OR_RETURN(m->stem_, LoadConvBn(ctx, bb + "embedder.embedder.", r.embedding, r.channels, 7, 2));
    // Every stage is loaded (the checkpoint holds them all); Forward runs those up to last_stage.
    int64_t in = r.embedding;
    for (size_t st = 0; st < r.hidden.size(); ++st) {
      std::vector<ResLayer> stage;
      const int64_t out = r.hidden[st];
      for (int64_t li = 0; li < r.depths[st]; ++li) {
        const int stride = li > 0 ? 1 : (st > 0 || r.downsample_in_first_stage) ? 2 : 1;
        const int64_t cin = li == 0 ? in : out;
        const std::string p = bb + "encoder.stages." + std::to_string(st) + ".layers." + std::to_string(li) + ".";
        ResLayer layer;
        if (r.bottleneck) {
          const int64_t red = out / 4;
          const int s0 = r.downsample_in_bottleneck ? stride : 1, s1 = r.downsample_in_bottleneck ? 1 : stride;
          ACCEL_ASSIGN_OR_RETURN(ConvBn c0, LoadConvBn(ctx, p + "layer.0.", red, cin, 1, s0));
          ACCEL_ASSIGN_OR_RETURN(ConvBn c1, LoadConvBn(ctx, p + "layer.1.", red, red, 3, s1));
          ACCEL_ASSIGN_OR_RETURN(ConvBn c2, LoadConvBn(ctx, p + "layer.2.", out, red, 1, 1));
          layer.convs = {std::move(c0), std::move(c1), std::move(c2)};
        } else {
          ACCEL_ASSIGN_OR_RETURN(ConvBn c0, LoadConvBn(ctx, p + "layer.0.", out, cin, 3, stride));
          ACCEL_ASSIGN_OR_RETURN(ConvBn c1, LoadConvBn(ctx, p + "layer.1.", out, out, 3, 1));
          layer.convs = {std::move(c0), std::move(c1)};
        }
        layer.has_shortcut = cin != out || stride != 1;
        if (layer.has_shortcut) {
          ACCEL_ASSIGN_OR_RETURN(layer.shortcut, LoadConvBn(ctx, p + "shortcut.", out, cin, 1, stride));
        }
        stage.push_back(std::move(layer));
      }
      m->stages_.push_back(std::move(stage));
      in = out;
    }
    const int64_t features = r.last_stage == 0 ? r.embedding : r.hidden[r.last_stage - 1];

    ACCEL_ASSIGN_OR_RETURN(Tensor proj_w, ctx.F32("model.input_projection.weight", {d, features, 1, 1}));
    ACCEL_ASSIGN_OR_RETURN(Tensor proj_w2, proj_w.Reshape({d, features}));
    ACCEL_ASSIGN_OR_RETURN(m->input_proj_.weight, ctx.backend.PackLinear(proj_w2, ctx.compute));
    ACCEL_ASSIGN_OR_RETURN(m->input_proj_.bias, ctx.F32("model.input_projection.bias", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->query_pos_, ctx.F32("model.query_position_embeddings.weight", {s.queries, d}));

    for (int64_t i = 0; i < s.encoder_layers; ++i) {
      ACCEL_ASSIGN_OR_RETURN(auto l, LoadTransformerLayer(ctx, "model.encoder.layers." + std::to_string(i) + ".", d, s.encoder_ffn, false));
      m->encoder_.push_back(std::move(l));
    }
    for (int64_t i = 0; i < s.decoder_layers; ++i) {
      ACCEL_ASSIGN_OR_RETURN(auto l, LoadTransformerLayer(ctx, "model.decoder.layers." + std::to_string(i) + ".", d, s.decoder_ffn, true));
      m->decoder_.push_back(std::move(l));
    }
    ACCEL_ASSIGN_OR_RETURN(m->decoder_norm_, LoadNorm(ctx, "model.decoder.layernorm", d));

    ACCEL_ASSIGN_OR_RETURN(Tensor cw, ctx.weights.Get("class_labels_classifier.weight"));
    if (cw.rank() != 2 || cw.dim(1) != d || cw.dim(0) < 2) {
      return Corrupt(ctx.weights.label() + ": class_labels_classifier.weight shape " + ShapeToString(cw.shape()));
    }
    s.classes = cw.dim(0);
    ACCEL_ASSIGN_OR_RETURN(m->classifier_, ctx.Linear("class_labels_classifier", s.classes, d));
    ACCEL_ASSIGN_OR_RETURN(m->bbox_[0], ctx.Linear("bbox_predictor.layers.0", d, d));
    ACCEL_ASSIGN_OR_RETURN(m->bbox_[1], ctx.Linear("bbox_predictor.layers.1", d, d));
    ACCEL_ASSIGN_OR_RETURN(m->bbox_[2], ctx.Linear("bbox_predictor.layers.2", 4, d));
    ACCEL_ASSIGN_OR_RETURN(m->half_, Tensor::Zeros(DType::kF32, {4}));
    std::fill(m->half_.data<float>(), m->half_.data<float>() + 4, 0.5f);
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return s_.architecture; }
  std::vector<std::string> required_inputs() const override { return {"pixel_values"}; }
  std::vector<std::string> optional_inputs() const override { return {"pixel_mask"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const DetrSpec& s = s_;
    const int64_t d = s.d_model;
    const Tensor* pixels = blocks::FindInput(inputs, "pixel_values");
    if (!pixels) return InvalidArgument("missing input 'pixel_values'");
    if (pixels->rank() != 4 || pixels->dtype() != DType::kF32 || pixels->dim(0) <= 0 || pixels->dim(1) != s.backbone.channels) {
      return InvalidArgument("pixel_values must be f32 [batch, " + std::to_string(s.backbone.channels) + ", H, W], got " +
                             ShapeToString(pixels->shape()));
    }
    const int64_t batch = pixels->dim(0), height = pixels->dim(2), width = pixels->dim(3);
    const Tensor* pixel_mask = blocks::FindInput(inputs, "pixel_mask");
    if (pixel_mask && (pixel_mask->shape() != Shape{batch, height, width} || !pixel_mask->on_host() ||
                       (pixel_mask->dtype() != DType::kI64 && pixel_mask->dtype() != DType::kI32))) {
      return InvalidArgument("pixel_mask must be an integer host tensor [" + std::to_string(batch) + ", " + std::to_string(height) +
                             ", " + std::to_string(width) + "], got " + ShapeToString(pixel_mask->shape()));
    }

    // Backbone -> [B, C, h, w] -> tokens [B, h * w, C] -> input projection.
    ACCEL_ASSIGN_OR_RETURN(Tensor fmap, Backbone(ex, *pixels));
    const int64_t channels = fmap.dim(1), h = fmap.dim(2), w = fmap.dim(3), positions = h * w;
    ACCEL_ASSIGN_OR_RETURN(Tensor flat, fmap.Reshape({batch, channels, positions}));
    ACCEL_ASSIGN_OR_RETURN(Tensor tokens, ex.TransposeLast2(flat));
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Linear(tokens, input_proj_));

    ACCEL_ASSIGN_OR_RETURN(MaskAndPositions host, MaskAndPositionsFor(pixel_mask, batch, height, width, h, w, d));
    ACCEL_ASSIGN_OR_RETURN(Tensor key_mask, ex.Upload(host.key_mask));
    ACCEL_ASSIGN_OR_RETURN(Tensor pos, ex.Upload(host.positions));

    AttentionParams enc_attn = blocks::MultiHead(d, s.encoder_heads);
    enc_attn.key_padding_mask = &key_mask;
    for (const auto& l : encoder_) {
      ACCEL_ASSIGN_OR_RETURN(x, SelfAttentionBlock(ex, l, x, pos, enc_attn));
      ACCEL_ASSIGN_OR_RETURN(x, FeedForward(ex, l, x));
    }
    const Tensor& memory = x;
    ACCEL_ASSIGN_OR_RETURN(Tensor memory_pos, ex.Add(memory, pos));  // the cross-attention keys' input

    // Decoder: the queries start at zero; query_pos_ [Q, D] broadcasts over the batch.
    ACCEL_ASSIGN_OR_RETURN(Tensor zeros, Tensor::Zeros(DType::kF32, {batch, s.queries, d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor q, ex.Upload(zeros));
    AttentionParams dec_self = blocks::MultiHead(d, s.decoder_heads);
    AttentionParams dec_cross = dec_self;
    dec_cross.key_padding_mask = &key_mask;
    for (const auto& l : decoder_) {
      ACCEL_ASSIGN_OR_RETURN(q, SelfAttentionBlock(ex, l, q, query_pos_, dec_self));
      ACCEL_ASSIGN_OR_RETURN(Tensor qp, ex.Add(q, query_pos_));
      ACCEL_ASSIGN_OR_RETURN(Tensor cq, ex.Linear(qp, l.cross_q));
      ACCEL_ASSIGN_OR_RETURN(Tensor ck, ex.Linear(memory_pos, l.cross_k));
      ACCEL_ASSIGN_OR_RETURN(Tensor cv, ex.Linear(memory, l.cross_v));
      ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.Attention(cq, ck, cv, dec_cross));
      ACCEL_ASSIGN_OR_RETURN(Tensor o, ex.Linear(ctx, l.cross_out));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(o, q, o));
      ACCEL_ASSIGN_OR_RETURN(q, ex.LayerNorm(o, l.cross_norm.w, &l.cross_norm.b, kLayerNormEps));
      ACCEL_ASSIGN_OR_RETURN(q, FeedForward(ex, l, q));
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor decoded, ex.LayerNorm(q, decoder_norm_.w, &decoder_norm_.b, kLayerNormEps));

    ACCEL_ASSIGN_OR_RETURN(Tensor logits, ex.Linear(decoded, classifier_));
    ACCEL_ASSIGN_OR_RETURN(Tensor b0, ex.Linear(decoded, bbox_[0], Activation::kRelu));
    ACCEL_ASSIGN_OR_RETURN(Tensor b1, ex.Linear(b0, bbox_[1], Activation::kRelu));
    ACCEL_ASSIGN_OR_RETURN(Tensor boxes, ex.Linear(b1, bbox_[2]));
    // sigmoid(z) = (1 + tanh(z / 2)) / 2, from the contract's Scale, tanh and broadcast Add.
    ACCEL_RETURN_IF_ERROR(ex.Scale(boxes, 0.5f));
    ACCEL_RETURN_IF_ERROR(ex.Activate(Activation::kTanh, boxes));
    ACCEL_RETURN_IF_ERROR(ex.Scale(boxes, 0.5f));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(boxes, half_, boxes));

    TensorMap out;
    ACCEL_ASSIGN_OR_RETURN(out["logits"], ex.Download(logits));
    ACCEL_ASSIGN_OR_RETURN(out["pred_boxes"], ex.Download(boxes));
    ACCEL_ASSIGN_OR_RETURN(out["last_hidden_state"], ex.Download(decoded));
    ACCEL_ASSIGN_OR_RETURN(out["encoder_last_hidden_state"], ex.Download(memory));
    return out;
  }

 private:
  Result<Tensor> Conv(Exec& ex, const Tensor& x, const ConvBn& c) const {
    return ex.Conv2d(x, c.w, &c.b, c.stride, c.padding, 1);
  }

  // HF ResNetBackbone: stem (conv 7x7/2 + BN + act, max pool 3x3/2), then the stages up to the
  // one DETR reads. Inside a layer the convolutions are followed by ReLU (HF's ResNetConvLayer
  // default) except the last; the layer's output activation is the config's hidden_act.
  Result<Tensor> Backbone(Exec& ex, const Tensor& pixels) const {
    const ResNetSpec& r = s_.backbone;
    ACCEL_ASSIGN_OR_RETURN(Tensor x, Conv(ex, pixels, stem_));
    ACCEL_RETURN_IF_ERROR(ex.Activate(r.act, x));
    ACCEL_ASSIGN_OR_RETURN(x, ex.MaxPool2d(x, 3, 2, 1));
    for (int64_t st = 0; st < r.last_stage; ++st) {
      for (const ResLayer& l : stages_[st]) {
        Tensor h = x;
        for (size_t i = 0; i < l.convs.size(); ++i) {
          ACCEL_ASSIGN_OR_RETURN(h, Conv(ex, h, l.convs[i]));
          if (i + 1 < l.convs.size()) ACCEL_RETURN_IF_ERROR(ex.Activate(Activation::kRelu, h));
        }
        Tensor residual = x;
        if (l.has_shortcut) {
          ACCEL_ASSIGN_OR_RETURN(residual, Conv(ex, x, l.shortcut));
        }
        ACCEL_RETURN_IF_ERROR(ex.AddInto(h, residual, h));
        ACCEL_RETURN_IF_ERROR(ex.Activate(r.act, h));
        x = h;
      }
    }
    return x;
  }

  // Post-norm self-attention: LN(x + Attn(q = k = x + pos, v = x)).
  static Result<Tensor> SelfAttentionBlock(Exec& ex, const TransformerLayer& l, const Tensor& x, const Tensor& pos,
                                           const AttentionParams& p) {
    ACCEL_ASSIGN_OR_RETURN(Tensor xp, ex.Add(x, pos));
    ACCEL_ASSIGN_OR_RETURN(Tensor q, ex.Linear(xp, l.self_q));
    ACCEL_ASSIGN_OR_RETURN(Tensor k, ex.Linear(xp, l.self_k));
    ACCEL_ASSIGN_OR_RETURN(Tensor v, ex.Linear(x, l.self_v));
    ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.Attention(q, k, v, p));
    ACCEL_ASSIGN_OR_RETURN(Tensor o, ex.Linear(ctx, l.self_out));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(o, x, o));
    return ex.LayerNorm(o, l.self_norm.w, &l.self_norm.b, kLayerNormEps);
  }

  // Post-norm feed-forward: LN(x + fc2(act(fc1(x)))).
  Result<Tensor> FeedForward(Exec& ex, const TransformerLayer& l, const Tensor& x) const {
    ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(x, l.fc1, s_.act));
    ACCEL_ASSIGN_OR_RETURN(Tensor o, ex.Linear(inner, l.fc2));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(o, x, o));
    return ex.LayerNorm(o, l.final_norm.w, &l.final_norm.b, kLayerNormEps);
  }

  DetrSpec s_;
  ConvBn stem_;
  std::vector<std::vector<ResLayer>> stages_;
  LinearLayer input_proj_, classifier_, bbox_[3];
  Tensor query_pos_, half_;
  std::vector<TransformerLayer> encoder_, decoder_;
  Norm decoder_norm_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadDetr(ModelLoadContext& ctx) { return DetrModel::Load(ctx); }

}  // namespace accel
