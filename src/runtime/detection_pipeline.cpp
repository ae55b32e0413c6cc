#include "runtime/detection_pipeline.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "preprocess/image_processor.h"

namespace accel::runtime {

namespace {
// config.json's id2label as a vector indexed by class id ("LABEL_i" where absent).
std::vector<std::string> Labels(const HfConfig& config, int64_t classes) {
  std::vector<std::string> out;
  const nlohmann::json& d = config.doc();
  const nlohmann::json* id2label = d.contains("id2label") && d["id2label"].is_object() ? &d["id2label"] : nullptr;
  for (int64_t i = 0; i < classes; ++i) {
    const std::string key = std::to_string(i);
    if (id2label && id2label->contains(key) && (*id2label)[key].is_string()) {
      out.push_back((*id2label)[key].get<std::string>());
    } else {
      out.push_back("LABEL_" + key);
    }
  }
  return out;
}
}  // namespace

std::vector<Detection> PostProcessDetections(const float* logits, const float* boxes, int64_t queries, int64_t classes,
                                             int image_width, int image_height, float threshold,
                                             const std::vector<std::string>& labels) {
  std::vector<Detection> out;
  for (int64_t q = 0; q < queries; ++q) {
    const float* row = logits + q * classes;
    const float mx = *std::max_element(row, row + classes);
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(row[c]) - mx);
    // The best real class (the first maximum, as torch.max), the last class being "no object".
    const int64_t best = std::max_element(row, row + classes - 1) - row;
    const float score = static_cast<float>(std::exp(static_cast<double>(row[best]) - mx) / sum);
    if (!(score > threshold)) continue;
    const float* b = boxes + q * 4;
    Detection d;
    d.label_id = best;
    d.label = best < static_cast<int64_t>(labels.size()) ? labels[best] : "LABEL_" + std::to_string(best);
    d.score = score;
    d.xmin = (b[0] - 0.5f * b[2]) * static_cast<float>(image_width);
    d.ymin = (b[1] - 0.5f * b[3]) * static_cast<float>(image_height);
    d.xmax = (b[0] + 0.5f * b[2]) * static_cast<float>(image_width);
    d.ymax = (b[1] + 0.5f * b[3]) * static_cast<float>(image_height);
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

Result<std::vector<Detection>> DetectObjects(LoadedModel& model, const std::string& image_path, float threshold,
                                             const preprocess::DecodeOptions& decode) {
  if (model.config().model_type() != "detr") {
    return InvalidArgument(model.dir() + ": object detection needs a DETR model, not '" + model.config().model_type() + "'");
  }
  const std::string cfg_path = (std::filesystem::path(model.dir()) / "preprocessor_config.json").string();
  ACCEL_ASSIGN_OR_RETURN(auto cfg, preprocess::ImageProcessorConfig::Load(cfg_path));
  ACCEL_ASSIGN_OR_RETURN(preprocess::Image image, preprocess::LoadImage(image_path, decode));
  ACCEL_ASSIGN_OR_RETURN(auto pre, preprocess::RunImagePipeline(image, cfg));
  // One image: no padding, so every pixel is real (the model's default pixel_mask).
  ACCEL_ASSIGN_OR_RETURN(TensorMap out, model.Run({{"pixel_values", pre.pixel_values}}));
  auto logits = out.find("logits"), boxes = out.find("pred_boxes");
  if (logits == out.end() || boxes == out.end()) return Internal(model.dir() + ": the model produced no logits/pred_boxes");
  const Tensor &l = logits->second, &b = boxes->second;
  if (l.rank() != 3 || b.rank() != 3 || l.dim(0) != 1 || b.dim(1) != l.dim(1) || b.dim(2) != 4 || l.dim(2) < 2) {
    return Internal(model.dir() + ": unexpected detection outputs " + ShapeToString(l.shape()) + " / " + ShapeToString(b.shape()));
  }
  const int64_t classes = l.dim(2);
  return PostProcessDetections(l.data<float>(), b.data<float>(), l.dim(1), classes, image.width, image.height, threshold,
                               Labels(model.config(), classes - 1));
}

}  // namespace accel::runtime
