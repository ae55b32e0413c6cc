#include "models/llava/config_defaults.h"

#include <string>
#include <vector>

namespace accel::llava {

namespace {

using Json = nlohmann::json;

struct Default {
  const char* key;
  Json value;
};

// LlavaConfig.__init__ (transformers 4.4x / 5.x).
const std::vector<Default>& LlavaDefaults() {
  static const std::vector<Default> d = {
      {"image_token_index", 32000},
      {"projector_hidden_act", "gelu"},
      {"vision_feature_select_strategy", "default"},
      {"vision_feature_layer", -2},
      {"image_seq_length", 576},
      {"multimodal_projector_bias", true},
      {"tie_word_embeddings", false},
  };
  return d;
}

// LlavaNextConfig adds the anyres grid.
const std::vector<Default>& LlavaNextDefaults() {
  static const std::vector<Default> d = {
      {"image_grid_pinpoints", Json::parse("[[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]")},
      {"use_image_newline_parameter", true},
  };
  return d;
}

// LlamaConfig.__init__ (text_config's model_type defaults to llama).
const std::vector<Default>& LlamaDefaults() {
  static const std::vector<Default> d = {
      {"model_type", "llama"},
      {"vocab_size", 32000},
      {"hidden_size", 4096},
      {"intermediate_size", 11008},
      {"num_hidden_layers", 32},
      {"num_attention_heads", 32},
      {"hidden_act", "silu"},
      {"max_position_embeddings", 2048},
      {"rms_norm_eps", 1e-6},
      {"rope_theta", 10000.0},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"pretraining_tp", 1},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
      {"tie_word_embeddings", false},
  };
  return d;
}

// CLIPVisionConfig.__init__, for a vision_config dict that omits keys.
const std::vector<Default>& ClipVisionDefaults() {
  static const std::vector<Default> d = {
      {"model_type", "clip_vision_model"},
      {"hidden_size", 768},
      {"intermediate_size", 3072},
      {"projection_dim", 512},
      {"num_hidden_layers", 12},
      {"num_attention_heads", 12},
      {"num_channels", 3},
      {"image_size", 224},
      {"patch_size", 32},
      {"hidden_act", "quick_gelu"},
      {"layer_norm_eps", 1e-5},
  };
  return d;
}

// LlavaConfig's vision tower when vision_config is absent: CLIP ViT-L/14 at 336 pixels.
const std::vector<Default>& LlavaDefaultVision() {
  static const std::vector<Default> d = {
      {"hidden_size", 1024}, {"intermediate_size", 4096}, {"patch_size", 14},  {"image_size", 336},
      {"num_hidden_layers", 24}, {"num_attention_heads", 16}, {"projection_dim", 768},
  };
  return d;
}

void Fill(Json& j, const std::vector<Default>& table) {
  for (const auto& d : table) {
    if (!j.contains(d.key) || j[d.key].is_null()) j[d.key] = d.value;
  }
}

}  // namespace

HfConfig WithHfDefaults(const HfConfig& c) {
  Json j = c.doc();
  Fill(j, LlavaDefaults());
  if (c.model_type() == "llava_next") Fill(j, LlavaNextDefaults());

  Json& text = j["text_config"];
  if (!text.is_object()) text = Json::object();
  const bool llama = !text.contains("model_type") || text["model_type"] == "llama";
  if (llama) {
    Fill(text, LlamaDefaults());
    if (!text.contains("num_key_value_heads") || text["num_key_value_heads"].is_null()) {
      text["num_key_value_heads"] = text["num_attention_heads"];
    }
    if ((!text.contains("head_dim") || text["head_dim"].is_null()) && text["num_attention_heads"].is_number_integer() &&
        text["hidden_size"].is_number_integer() && text["num_attention_heads"].get<int64_t>() > 0) {
      text["head_dim"] = text["hidden_size"].get<int64_t>() / text["num_attention_heads"].get<int64_t>();
    }
  }

  Json& vision = j["vision_config"];
  if (!vision.is_object()) {
    vision = Json::object();
    Fill(vision, LlavaDefaultVision());
  }
  if (!vision.contains("model_type") || vision["model_type"] == "clip_vision_model") Fill(vision, ClipVisionDefaults());
  return HfConfig::FromJson(std::move(j), c.label());
}

}  // namespace accel::llava
