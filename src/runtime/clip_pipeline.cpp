#include "runtime/clip_pipeline.h"

#include <cmath>
#include <filesystem>

#include "preprocess/image_processor.h"
#include "tokenizers/tokenizer.h"

namespace accel::runtime {

namespace {
Result<std::vector<float>> Row0(const TensorMap& out, const std::string& name) {
  auto it = out.find(name);
  if (it == out.end()) return Internal("model produced no " + name);
  const Tensor& t = it->second;
  return std::vector<float>(t.data<float>(), t.data<float>() + t.dim(-1));
}
}  // namespace

// Preprocesses and runs the image through the vision tower: image_embeds and logit_scale.
Result<TensorMap> RunImage(LoadedModel& model, const std::string& image_path, const preprocess::DecodeOptions& decode) {
  if (model.config().model_type() != "clip") {
    return InvalidArgument(model.dir() + ": image embeddings need a CLIP model, not '" + model.config().model_type() + "'");
  }
  const std::string cfg_path = (std::filesystem::path(model.dir()) / "preprocessor_config.json").string();
  ACCEL_ASSIGN_OR_RETURN(auto cfg, preprocess::ImageProcessorConfig::Load(cfg_path));
  ACCEL_ASSIGN_OR_RETURN(preprocess::Image image, preprocess::LoadImage(image_path, decode));
  ACCEL_ASSIGN_OR_RETURN(auto pre, preprocess::RunImagePipeline(image, cfg));
  return model.Run({{"pixel_values", pre.pixel_values}});
}

Result<std::vector<float>> EmbedImage(LoadedModel& model, const std::string& image_path, const preprocess::DecodeOptions& decode) {
  ACCEL_ASSIGN_OR_RETURN(TensorMap out, RunImage(model, image_path, decode));
  return Row0(out, "image_embeds");
}

Result<std::vector<float>> EmbedText(LoadedModel& model, const std::string& text) {
  if (model.config().model_type() != "clip") return InvalidArgument(model.dir() + ": not a CLIP model");
  ACCEL_ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(model.dir()));
  ACCEL_ASSIGN_OR_RETURN(Encoding t, tok->Encode(text));
  const int64_t n = static_cast<int64_t>(t.ids.size());
  if (n == 0) return InvalidArgument("text produced no tokens");
  ACCEL_ASSIGN_OR_RETURN(Tensor ids, Tensor::Zeros(DType::kI64, {1, n}));
  ACCEL_ASSIGN_OR_RETURN(Tensor mask, Tensor::Zeros(DType::kI64, {1, n}));
  for (int64_t i = 0; i < n; ++i) {
    ids.data<int64_t>()[i] = t.ids[i];
    mask.data<int64_t>()[i] = i < static_cast<int64_t>(t.attention_mask.size()) ? t.attention_mask[i] : 1;
  }
  ACCEL_ASSIGN_OR_RETURN(TensorMap out, model.Run({{"input_ids", ids}, {"attention_mask", mask}}));
  return Row0(out, "text_embeds");
}

std::vector<LabelScore> ScoreLabels(const std::vector<float>& image, const std::vector<std::vector<float>>& texts,
                                    const std::vector<std::string>& labels, float scale) {
  std::vector<LabelScore> scores(labels.size());
  float best = -INFINITY;
  for (size_t i = 0; i < labels.size(); ++i) {
    float dot = 0;
    for (size_t k = 0; k < image.size() && k < texts[i].size(); ++k) dot += image[k] * texts[i][k];
    scores[i] = {labels[i], 0, scale * dot};
    best = std::max(best, scores[i].logit);
  }
  double total = 0;
  for (auto& s : scores) total += std::exp(s.logit - best);
  for (auto& s : scores) s.probability = static_cast<float>(std::exp(s.logit - best) / total);
  return scores;
}

Result<std::vector<LabelScore>> ClassifyImageZeroShot(LoadedModel& model, const std::string& image_path,
                                                      const std::vector<std::string>& labels, const std::string& prompt_template) {
  if (labels.empty()) return InvalidArgument("zero-shot classification needs at least one label");
  ACCEL_ASSIGN_OR_RETURN(TensorMap image_out, RunImage(model, image_path, {}));
  ACCEL_ASSIGN_OR_RETURN(std::vector<float> image, Row0(image_out, "image_embeds"));
  ACCEL_ASSIGN_OR_RETURN(std::vector<float> raw_scale, Row0(image_out, "logit_scale"));
  std::vector<std::vector<float>> texts;
  for (const auto& label : labels) {
    std::string prompt = prompt_template;
    if (auto at = prompt.find("{}"); at != std::string::npos) prompt.replace(at, 2, label);
    ACCEL_ASSIGN_OR_RETURN(auto t, EmbedText(model, prompt));
    texts.push_back(std::move(t));
  }
  const float scale = std::exp(raw_scale[0]);
  return ScoreLabels(image, texts, labels, scale);
}

}  // namespace accel::runtime
