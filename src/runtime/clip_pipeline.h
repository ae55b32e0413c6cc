#pragma once
// CLIP pipelines: image -> preprocessing (the folder's preprocessor_config.json) -> vision
// tower -> L2-normalised image embedding; text -> tokenizer -> text tower -> text embedding;
// zero-shot classification = softmax over exp(logit_scale) * cosine similarities.
#include <string>
#include <vector>

#include "preprocess/image.h"
#include "runtime/loaded_model.h"

namespace accel::runtime {

// Loads the image, preprocesses it as `model`'s folder says, returns image_embeds [dim].
Result<std::vector<float>> EmbedImage(LoadedModel& model, const std::string& image_path,
                                      const preprocess::DecodeOptions& decode = {});
// Tokenizes `text` with the folder's tokenizer, returns text_embeds [dim].
Result<std::vector<float>> EmbedText(LoadedModel& model, const std::string& text);

struct LabelScore {
  std::string label;
  float probability = 0, logit = 0;
};
// Zero-shot: each label becomes the prompt "a photo of a {label}." (CLIP's usual template).
Result<std::vector<LabelScore>> ClassifyImageZeroShot(LoadedModel& model, const std::string& image_path,
                                                      const std::vector<std::string>& labels,
                                                      const std::string& prompt_template = "a photo of a {}.");

// Pure part of zero-shot classification: softmax over scale * <image, text_i>.
std::vector<LabelScore> ScoreLabels(const std::vector<float>& image, const std::vector<std::vector<float>>& texts,
                                    const std::vector<std::string>& labels, float logit_scale_exp);

}  // namespace accel::runtime
