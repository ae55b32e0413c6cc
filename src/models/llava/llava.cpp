// LLaVA 1.5 and LLaVA-NeXT (HF modeling_llava.py, modeling_llava_next.py). The vision tower is
// CLIP's (models/clip), read at hidden_states[vision_feature_layer] before post_layernorm; the
// language model is the llama template (models/decoder). What is LLaVA's own:
// - the projector: linear_1 -> act -> linear_2 over every vision token (the class token's row
//   is computed and never read: strategy "default" drops it by index);
// - the merge: the image-token positions of input_ids, in row-major order over the batch, take
//   the image features in order (HF masked_scatter), as row copies on the device;
// - LLaVA-NeXT's anyres packing (models/llava/anyres): base tile, stitched and unpadded grid,
//   image_newline after each grid row, expressed as the order of those copies.
// Both checkpoint layouts load: current (model.vision_tower.*, model.multi_modal_projector.*,
// model.language_model.*, lm_head.weight) and legacy (vision_tower.*, multi_modal_projector.*,
// language_model.model.*, language_model.lm_head.weight).
#include "models/llava/llava.h"

#include <algorithm>

#include "models/blocks.h"
#include "models/clip.h"
#include "models/decoder/causal_lm_model.h"
#include "models/decoder/templates.h"
#include "models/image_text_lm.h"
#include "models/llava/anyres.h"
#include "models/registry.h"

namespace accel {
namespace {

struct Layout {
  std::string vision, projector, language, lm_head, newline;
};

Layout DetectLayout(const WeightStore& w) {
  if (w.Has("language_model.model.embed_tokens.weight")) {
    return {"vision_tower.vision_model.", "multi_modal_projector.", "language_model.model.", "language_model.lm_head",
            "image_newline"};
  }
  return {"model.vision_tower.vision_model.", "model.multi_modal_projector.", "model.language_model.", "lm_head",
          "model.image_newline"};
}

class LlavaModel final : public Model, public TextGenerator, public ImageTextLm {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    auto m = std::unique_ptr<LlavaModel>(new LlavaModel());
    const HfConfig& c = ctx.config;  // HF defaults already filled in (formats/config_defaults.json)
    m->next_ = c.model_type() == "llava_next";
    m->architecture_ = c.architecture().empty()
                           ? (m->next_ ? "LlavaNextForConditionalGeneration" : "LlavaForConditionalGeneration")
                           : c.architecture();
    const HfConfig tc = c.Sub("text_config"), vc = c.Sub("vision_config");
    const models::ModelTemplate* text_template = models::FindTemplate(tc.model_type());
    if (!text_template || std::string(text_template->name) != "llama") {
      return Unsupported(tc.label() + ": language model type '" + tc.model_type() + "' (the llama template's types only)");
    }
    if (vc.model_type() != "clip_vision_model") {
      return Unsupported(vc.label() + ": vision tower type '" + vc.model_type() + "' (clip_vision_model only)");
    }
    ACCEL_ASSIGN_OR_RETURN(m->image_token_, c.Int({"image_token_index", "image_token_id"}));
    auto layer = c.doc().find("vision_feature_layer");
    if (layer == c.doc().end() || !layer->is_number_integer()) {
      return Unsupported(c.label() + ": vision_feature_layer must be one integer (lists of layers are not supported)");
    }
    m->feature_layer_ = layer->get<int64_t>();
    const std::string strategy = c.StringOr("vision_feature_select_strategy", "default");
    if (strategy != "default" && strategy != "full") {
      return Unsupported(c.label() + ": vision_feature_select_strategy '" + strategy + "'");
    }
    m->drop_cls_ = strategy == "default";
    if (m->next_ && !m->drop_cls_) return Unsupported(c.label() + ": LLaVA-NeXT with vision_feature_select_strategy 'full'");
    ACCEL_ASSIGN_OR_RETURN(m->projector_act_, ActivationFromHf(c.StringOr("projector_hidden_act", "gelu")));
    const bool bias = c.BoolOr("multimodal_projector_bias", true);

    const Layout names = DetectLayout(ctx.weights);
    ACCEL_ASSIGN_OR_RETURN(m->tower_, ClipVisionTower::Load(ctx, vc, names.vision));
    const int64_t layers = m->tower_.layers();
    if (m->feature_layer_ < -(layers + 1) || m->feature_layer_ > layers) {
      return Corrupt(c.label() + ": vision_feature_layer " + std::to_string(m->feature_layer_) + " is outside the tower's " +
                     std::to_string(layers + 1) + " hidden states");
    }
    ModelLoadContext text_ctx{tc, ctx.weights, ctx.backend, ctx.compute};
    ACCEL_ASSIGN_OR_RETURN(m->lm_, decoder::LoadLlamaLanguageModel(text_ctx, names.language, names.lm_head));
    const int64_t th = m->lm_->spec().hidden, vh = m->tower_.hidden();
    ACCEL_ASSIGN_OR_RETURN(m->linear_1_, ctx.Linear(names.projector + "linear_1", th, vh, bias));
    ACCEL_ASSIGN_OR_RETURN(m->linear_2_, ctx.Linear(names.projector + "linear_2", th, th, bias));
    if (m->next_) {
      ACCEL_ASSIGN_OR_RETURN(m->newline_, ctx.F32(names.newline, {th}));
      auto pins = c.doc().find("image_grid_pinpoints");
      if (pins == c.doc().end() || !pins->is_array() || pins->empty()) {
        return Corrupt(c.label() + ": image_grid_pinpoints must be a non-empty list of [height, width]");
      }
      for (const auto& p : *pins) {
        auto side_ok = [](const nlohmann::json& v) {
          return v.is_number_integer() && v.get<int64_t>() > 0 && v.get<int64_t>() <= (int64_t{1} << 20);
        };
        if (!p.is_array() || p.size() != 2 || !side_ok(p[0]) || !side_ok(p[1])) {
          return Corrupt(c.label() + ": image_grid_pinpoints entries must be [height, width] of positive integers");
        }
        m->pinpoints_.push_back({p[0].get<int64_t>(), p[1].get<int64_t>()});
      }
    }
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return architecture_; }
  std::vector<std::string> required_inputs() const override { return {"input_ids"}; }
  std::vector<std::string> optional_inputs() const override {
    if (next_) return {"attention_mask", "pixel_values", "image_sizes"};
    return {"attention_mask", "pixel_values"};
  }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const Tensor* ids = blocks::FindInput(inputs, "input_ids");
    if (!ids) return InvalidArgument("missing input 'input_ids'");
    ACCEL_ASSIGN_OR_RETURN(Tensor embeds, MergedEmbeddings(ex, inputs));
    return lm_->ForwardEmbeds(ex, *ids, blocks::FindInput(inputs, "attention_mask"), embeds);
  }

  Result<Tensor> GenerateGreedy(Exec& ex, const GenerateRequest& request) override {
    if (!blocks::FindInput(request.inputs, "input_ids")) return InvalidArgument("generation needs 'input_ids'");
    const auto accepted = optional_inputs();
    for (const auto& [name, t] : request.inputs) {
      if (name != "input_ids" && std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
        return InvalidArgument("generation input '" + name + "' is not accepted by " + architecture_);
      }
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor embeds, MergedEmbeddings(ex, request.inputs));
    // The prompt is prefilled from the merged embeddings; new ids are decoded from the cache.
    GenerateRequest text = request;
    text.inputs.erase("pixel_values");
    text.inputs.erase("image_sizes");
    return lm_->GenerateGreedyFrom(ex, text, &embeds);
  }

  CausalLm& language_model() override { return *lm_; }
  int64_t image_token_id() const override { return image_token_; }

  Result<int64_t> ImageTokenCount(int64_t height, int64_t width) const override {
    const int64_t side = tower_.image_size() / tower_.patch_size();
    if (!next_) return side * side + (drop_cls_ ? 0 : 1);
    const llava::Resolution size{height, width};
    ACCEL_ASSIGN_OR_RETURN(llava::AnyresGrid grid, llava::GridFor(size, pinpoints_, tower_.image_size()));
    return static_cast<int64_t>(llava::PackedRows(size, grid, side, side * side + 1, 0, 0).size());
  }

  std::vector<std::pair<int64_t, int64_t>> grid_pinpoints() const override {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& p : pinpoints_) out.emplace_back(p.height, p.width);
    return out;
  }

  Result<Tensor> StepWithImages(Exec& ex, decoder::KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                                const TensorMap& images) override {
    TensorMap inputs = images;
    inputs["input_ids"] = ids;
    ACCEL_ASSIGN_OR_RETURN(Tensor embeds, MergedEmbeddings(ex, inputs));
    return lm_->StepEmbeds(ex, cache, embeds, mask, /*all_logits=*/false, /*positions_from_mask=*/true);
  }

 private:
  // inputs_embeds [B, T, hidden] with the image-token positions replaced by the image features.
  Result<Tensor> MergedEmbeddings(Exec& ex, const TensorMap& inputs) {
    const Tensor& ids = inputs.at("input_ids");
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "input_ids"));
    const int64_t batch = ids.dim(0), seq = ids.dim(1), vocab = lm_->spec().vocab, hidden = lm_->spec().hidden;
    std::vector<int64_t> image_positions;
    ACCEL_ASSIGN_OR_RETURN(Tensor text_ids, Tensor::Zeros(DType::kI64, {batch, seq}));
    for (int64_t i = 0; i < batch * seq; ++i) {
      const int64_t id = blocks::IdAt(ids, static_cast<size_t>(i));
      if (id == image_token_) image_positions.push_back(i);
      // An image token id past the vocabulary is embedded as 0 (HF), then replaced.
      text_ids.data<int64_t>()[i] = id == image_token_ && id >= vocab ? 0 : id;
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor x, lm_->Embed(ex, text_ids));
    const Tensor* pixels = blocks::FindInput(inputs, "pixel_values");
    if (!pixels) {
      if (!image_positions.empty()) {
        return InvalidArgument(std::to_string(image_positions.size()) + " image tokens (id " + std::to_string(image_token_) +
                               ") but no pixel_values");
      }
      return x;
    }
    Tensor table;
    std::vector<int64_t> order;
    if (next_) {
      ACCEL_RETURN_IF_ERROR(AnyresFeatures(ex, *pixels, blocks::FindInput(inputs, "image_sizes"), table, order));
    } else {
      ACCEL_RETURN_IF_ERROR(Features(ex, *pixels, table, order));
    }
    if (order.size() != image_positions.size()) {
      return InvalidArgument("image features and image tokens do not match: " + std::to_string(image_positions.size()) +
                             " tokens (id " + std::to_string(image_token_) + "), " + std::to_string(order.size()) + " features");
    }
    // One copy per run of consecutive positions fed by consecutive feature rows.
    ACCEL_ASSIGN_OR_RETURN(Tensor rows, x.Reshape({batch * seq, hidden}));
    for (size_t k = 0; k < order.size();) {
      size_t n = 1;
      while (k + n < order.size() && image_positions[k + n] == image_positions[k] + static_cast<int64_t>(n) &&
             order[k + n] == order[k] + static_cast<int64_t>(n)) {
        ++n;
      }
      Tensor dst = rows.SliceRows(image_positions[k], image_positions[k] + static_cast<int64_t>(n));
      ACCEL_RETURN_IF_ERROR(ex.Copy(table.SliceRows(order[k], order[k] + static_cast<int64_t>(n)), dst));
      k += n;
    }
    return x;
  }

  // Projected vision tokens of images [N, C, H, W] -> [N * tokens, text hidden].
  Result<Tensor> Project(Exec& ex, const Tensor& images) {
    ACCEL_ASSIGN_OR_RETURN(Tensor h, tower_.HiddenState(ex, images, feature_layer_));
    ACCEL_ASSIGN_OR_RETURN(Tensor flat, h.Reshape({h.dim(0) * h.dim(1), h.dim(2)}));
    ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(flat, linear_1_, projector_act_));
    return ex.Linear(inner, linear_2_);
  }

  // LLaVA 1.5: each image's tokens in order, the class token dropped with "default".
  Status Features(Exec& ex, const Tensor& pixels, Tensor& table, std::vector<int64_t>& order) {
    if (pixels.rank() != 4) return InvalidArgument("pixel_values must be [batch, channels, height, width], got " + ShapeToString(pixels.shape()));
    ACCEL_ASSIGN_OR_RETURN(table, Project(ex, pixels));
    const int64_t tokens = tower_.tokens(), first = drop_cls_ ? 1 : 0;
    for (int64_t b = 0; b < pixels.dim(0); ++b) {
      for (int64_t i = first; i < tokens; ++i) order.push_back(b * tokens + i);
    }
    return Status::Ok();
  }

  // LLaVA-NeXT: pixel_values [B, tiles, C, H, W] (tiles padded to the batch's most), image_sizes
  // [B, 2] (height, width); the table gets image_newline as its last row.
  Status AnyresFeatures(Exec& ex, const Tensor& pixels, const Tensor* sizes, Tensor& table, std::vector<int64_t>& order) {
    if (pixels.rank() != 5) {
      return InvalidArgument("pixel_values must be [batch, tiles, channels, height, width], got " + ShapeToString(pixels.shape()));
    }
    const int64_t batch = pixels.dim(0), max_tiles = pixels.dim(1);
    if (!sizes || sizes->rank() != 2 || sizes->dim(0) != batch || sizes->dim(1) != 2 ||
        (sizes->dtype() != DType::kI64 && sizes->dtype() != DType::kI32)) {
      return InvalidArgument("LLaVA-NeXT needs image_sizes, integer [batch, 2] (height, width) beside pixel_values");
    }
    const int64_t side = tower_.image_size() / tower_.patch_size(), tokens = tower_.tokens();
    const int64_t newline_row = batch * max_tiles * tokens;
    for (int64_t b = 0; b < batch; ++b) {
      const llava::Resolution size{blocks::IdAt(*sizes, static_cast<size_t>(2 * b)), blocks::IdAt(*sizes, static_cast<size_t>(2 * b + 1))};
      ACCEL_ASSIGN_OR_RETURN(llava::AnyresGrid grid, llava::GridFor(size, pinpoints_, tower_.image_size()));
      if (grid.tiles() > max_tiles) {
        return InvalidArgument("image " + std::to_string(b) + " of " + std::to_string(size.height) + "x" + std::to_string(size.width) +
                               " needs " + std::to_string(grid.tiles()) + " tiles, pixel_values has " + std::to_string(max_tiles));
      }
      const std::vector<int64_t> rows = llava::PackedRows(size, grid, side, tokens, b * max_tiles * tokens + 1, newline_row);
      order.insert(order.end(), rows.begin(), rows.end());
    }
    const Shape& s = pixels.shape();
    ACCEL_ASSIGN_OR_RETURN(Tensor tiles, pixels.Reshape({batch * max_tiles, s[2], s[3], s[4]}));
    ACCEL_ASSIGN_OR_RETURN(Tensor projected, Project(ex, tiles));
    const int64_t hidden = lm_->spec().hidden;
    ACCEL_ASSIGN_OR_RETURN(table, ex.Alloc({newline_row + 1, hidden}));
    Tensor features = table.SliceRows(0, newline_row);
    ACCEL_RETURN_IF_ERROR(ex.Copy(projected, features));
    ACCEL_ASSIGN_OR_RETURN(Tensor newline, newline_.Reshape({1, hidden}));
    Tensor last = table.SliceRows(newline_row, newline_row + 1);
    return ex.Copy(newline, last);
  }

  std::string architecture_;
  bool next_ = false, drop_cls_ = true;
  int64_t image_token_ = 0, feature_layer_ = -2;
  Activation projector_act_ = Activation::kGeluErf;
  ClipVisionTower tower_;
  LinearLayer linear_1_, linear_2_;
  std::unique_ptr<decoder::DecoderModel> lm_;
  Tensor newline_;
  std::vector<llava::Resolution> pinpoints_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadLlava(ModelLoadContext& ctx) { return LlavaModel::Load(ctx); }

}  // namespace accel
