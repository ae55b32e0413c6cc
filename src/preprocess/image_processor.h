#pragma once
// HF image processors (ViTImageProcessor, CLIPImageProcessor, DeiT, DetrImageProcessor for one
// image, ...) driven by preprocessor_config.json: convert to RGB, resize, centre crop, rescale,
// normalise, CHW.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "preprocess/image.h"

namespace accel::preprocess {

struct ImageProcessorConfig {
  bool do_resize = true;
  int shortest_edge = 0;            // size {"shortest_edge": N}: keep aspect ratio
  int longest_edge = 0;             // with shortest_edge (DETR's {shortest_edge, longest_edge} or size + max_size):
                                    // the long side is capped, HF get_size_with_aspect_ratio
  int resize_height = 0, resize_width = 0;  // size {"height", "width"}: exact
  int resample = 2;                 // PIL filter id
  bool do_center_crop = false;
  int crop_height = 0, crop_width = 0;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::vector<float> mean = {0.5f, 0.5f, 0.5f}, std = {0.5f, 0.5f, 0.5f};

  static Result<ImageProcessorConfig> FromJson(const nlohmann::json& j, const std::string& label);
  static Result<ImageProcessorConfig> Load(const std::string& path);
};

struct ImagePipelineOutput {
  Image resized;        // after resize, before crop (PIL-exact uint8)
  Tensor pixel_values;  // [1, 3, H, W] f32
};

Result<ImagePipelineOutput> RunImagePipeline(const Image& image, const ImageProcessorConfig& config);

// DETR's output size for an image (HF get_size_with_aspect_ratio): the short side becomes
// `shortest_edge` unless that makes the long side exceed `longest_edge`, in which case the short
// side is round(longest_edge * short / long) (half to even, as Python's round) and the long side
// is truncated from the unrounded value. Returns {height, width}.
std::pair<int, int> DetrResizeOutputSize(int height, int width, int shortest_edge, int longest_edge);

}  // namespace accel::preprocess
