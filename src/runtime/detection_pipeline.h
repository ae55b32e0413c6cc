#pragma once
// Object detection with a DETR model: image -> DetrImageProcessor (the folder's
// preprocessor_config.json: resize shortest/longest edge, rescale, normalise) -> model ->
// HF post_process_object_detection: softmax over the classes, the no-object class dropped, the
// best class per query kept above a threshold, boxes (cx, cy, w, h) -> (x0, y0, x1, y1) scaled to
// the original image.
#include <string>
#include <vector>

#include "preprocess/image.h"
#include "runtime/loaded_model.h"

namespace accel::runtime {

struct Detection {
  int64_t label_id = 0;
  std::string label;
  float score = 0;
  float xmin = 0, ymin = 0, xmax = 0, ymax = 0;  // pixels of the original image
};

// Detections with score > threshold, highest score first.
Result<std::vector<Detection>> DetectObjects(LoadedModel& model, const std::string& image_path, float threshold = 0.5f,
                                             const preprocess::DecodeOptions& decode = {});

// Pure post-processing of one image: logits [queries, classes] (the last is "no object") and
// boxes [queries, 4] normalised (cx, cy, w, h); labels[i] names class i (missing: "LABEL_i").
std::vector<Detection> PostProcessDetections(const float* logits, const float* boxes, int64_t queries, int64_t classes,
                                             int image_width, int image_height, float threshold,
                                             const std::vector<std::string>& labels);

}  // namespace accel::runtime
