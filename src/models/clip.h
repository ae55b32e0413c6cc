#pragma once
#include <memory>

#include "models/blocks.h"
#include "models/model.h"

namespace accel {

// CLIP's vision transformer (HF CLIPVisionTransformer): patch embedding, class token, positions,
// pre_layrnorm, pre-LN layers; post_layernorm applied only to the pooled class token. Shared by
// CLIPModel and the LLaVA models, which read an intermediate hidden state.
class ClipVisionTower {
 public:
  // Reads `prefix` + "embeddings.*", "pre_layrnorm.*", "encoder.layers.N.*", "post_layernorm.*"
  // (prefix e.g. "vision_model." or "model.vision_tower.vision_model.") with sizes from `vc`.
  static Result<ClipVisionTower> Load(ModelLoadContext& ctx, const HfConfig& vc, const std::string& prefix);

  int64_t hidden() const { return hidden_; }
  int64_t layers() const { return static_cast<int64_t>(layers_.size()); }
  int64_t image_size() const { return image_; }
  int64_t patch_size() const { return patch_; }
  int64_t tokens() const { return (image_ / patch_) * (image_ / patch_) + 1; }  // class token + patches

  // HF's hidden_states[index] of pixel_values [B, C, H, W] -> [B, tokens(), hidden] (0 = the
  // embeddings after pre_layrnorm, i = after layer i, negative counts from the end as Python
  // does); only the layers needed run, and post_layernorm is not applied.
  Result<Tensor> HiddenState(Exec& ex, const Tensor& pixels, int64_t index) const;
  // The class token of the last layer through post_layernorm: CLIPVisionModel's pooler_output [B, hidden].
  Result<Tensor> Pooled(Exec& ex, const Tensor& pixels) const;

 private:
  int64_t hidden_ = 0, heads_ = 0, image_ = 0, patch_ = 0, channels_ = 3;
  float eps_ = 1e-5f;
  Activation act_ = Activation::kQuickGelu;
  Tensor class_emb_, patch_w_, pos_, pre_ln_w_, pre_ln_b_, post_ln_w_, post_ln_b_;
  std::vector<blocks::TransformerLayer> layers_;
};

// CLIPModel (model_type clip): text and vision towers, projections, logit scale.
Result<std::unique_ptr<Model>> LoadClip(ModelLoadContext& ctx);
}  // namespace accel
