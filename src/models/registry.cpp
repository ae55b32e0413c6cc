#include "models/registry.h"

#include "models/bert.h"
#include "models/clip.h"
#include "models/detr.h"
#include "models/t5.h"
#include "models/vit.h"
#include "models/wav2vec2.h"
#include "models/whisper.h"
#include "models/decoder/templates.h"
#include "models/llava/llava.h"

namespace accel::models {

const std::vector<ModelTemplate>& Templates() {
  static const std::vector<ModelTemplate> templates = {
      {"bert", {"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "albert"}, LoadBertEncoder},
      {"vit", {"vit", "deit"}, LoadVit},
      {"clip", {"clip"}, LoadClip},
      {"detr", {"detr"}, LoadDetr},
      {"wav2vec2", {"wav2vec2"}, LoadWav2Vec2},
      {"whisper", {"whisper"}, LoadWhisper},
      {"t5", {"t5", "mt5"}, LoadT5},
      {"llama", {"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3"}, decoder::LoadLlamaDecoder, true},
      {"llava", {"llava", "llava_next"}, LoadLlava, true},
      {"gpt2", {"gpt2", "gpt_neox", "opt", "gptj", "bloom", "falcon"}, decoder::LoadGptDecoder, true},
  };
  return templates;
}

const ModelTemplate* FindTemplate(const std::string& model_type) {
  for (const auto& t : Templates()) {
    for (const auto& mt : t.model_types) {
      if (mt == model_type) return &t;
    }
  }
  return nullptr;
}

bool IsSupportedModelType(const std::string& model_type) { return FindTemplate(model_type) != nullptr; }

}  // namespace accel::models
