#include "preprocess/image_processor.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/mapped_file.h"
#include "preprocess/image_ops.h"

namespace accel::preprocess {

namespace {
using Json = nlohmann::json;

Result<int> PositiveInt(const Json& j, const char* key, const std::string& label) {
  if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() <= 0 || j[key].get<int64_t>() > 65536) {
    return Corrupt(label + ": '" + key + "' must be a positive integer");
  }
  return static_cast<int>(j[key].get<int64_t>());
}

Result<std::vector<float>> Triple(const Json& j, const char* key, std::vector<float> fallback, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const Json& v = j[key];
  if (v.is_number()) return std::vector<float>(3, v.get<float>());
  if (!v.is_array() || v.size() != 3) return Corrupt(label + ": '" + key + "' must be 3 numbers");
  std::vector<float> out;
  for (const auto& x : v) {
    if (!x.is_number()) return Corrupt(label + ": '" + key + "' must be 3 numbers");
    out.push_back(x.get<float>());
  }
  return out;
}

bool BoolOr(const Json& j, const char* key, bool fallback) { return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback; }
}  // namespace

Result<ImageProcessorConfig> ImageProcessorConfig::FromJson(const Json& j, const std::string& label) {
  if (!j.is_object()) return Corrupt(label + ": not a JSON object");
  ImageProcessorConfig c;
  const std::string type = j.value("image_processor_type", j.value("feature_extractor_type", std::string()));
  c.do_resize = BoolOr(j, "do_resize", true);
  if (c.do_resize) {
    if (!j.contains("size")) return Corrupt(label + ": do_resize without 'size'");
    const Json& s = j["size"];
    const bool detr = type.find("Detr") != std::string::npos;
    if (s.is_number_integer()) {
      // Legacy integer sizes: CLIP-style processors read it as the shortest edge, others as square;
      // DETR's feature extractor as the shortest edge with `max_size` capping the longest.
      if (detr) {
        ACCEL_ASSIGN_OR_RETURN(c.shortest_edge, PositiveInt(j, "size", label));
        if (j.contains("max_size") && !j["max_size"].is_null()) {
          ACCEL_ASSIGN_OR_RETURN(c.longest_edge, PositiveInt(j, "max_size", label));
        }
      } else if (type.find("CLIP") != std::string::npos) {
        ACCEL_ASSIGN_OR_RETURN(c.shortest_edge, PositiveInt(j, "size", label));
      } else {
        ACCEL_ASSIGN_OR_RETURN(c.resize_height, PositiveInt(j, "size", label));
        c.resize_width = c.resize_height;
      }
    } else if (s.is_object() && s.contains("shortest_edge")) {
      ACCEL_ASSIGN_OR_RETURN(c.shortest_edge, PositiveInt(s, "shortest_edge", label + " size"));
      if (s.contains("longest_edge") && !s["longest_edge"].is_null()) {
        ACCEL_ASSIGN_OR_RETURN(c.longest_edge, PositiveInt(s, "longest_edge", label + " size"));
      }
    } else if (s.is_object() && s.contains("height") && s.contains("width")) {
      ACCEL_ASSIGN_OR_RETURN(c.resize_height, PositiveInt(s, "height", label + " size"));
      ACCEL_ASSIGN_OR_RETURN(c.resize_width, PositiveInt(s, "width", label + " size"));
    } else {
      return Unsupported(label + ": 'size' must be an integer, {shortest_edge} or {height, width}");
    }
  }
  if (j.contains("resample")) {
    if (!j["resample"].is_number_integer() || j["resample"].get<int>() < 0 || j["resample"].get<int>() > 5) {
      return Corrupt(label + ": 'resample' must be a PIL filter id 0..5");
    }
    c.resample = j["resample"].get<int>();
  }
  c.do_center_crop = BoolOr(j, "do_center_crop", false);
  if (c.do_center_crop) {
    if (!j.contains("crop_size")) return Corrupt(label + ": do_center_crop without 'crop_size'");
    const Json& s = j["crop_size"];
    if (s.is_number_integer()) {
      ACCEL_ASSIGN_OR_RETURN(c.crop_height, PositiveInt(j, "crop_size", label));
      c.crop_width = c.crop_height;
    } else {
      ACCEL_ASSIGN_OR_RETURN(c.crop_height, PositiveInt(s, "height", label + " crop_size"));
      ACCEL_ASSIGN_OR_RETURN(c.crop_width, PositiveInt(s, "width", label + " crop_size"));
    }
  }
  c.do_rescale = BoolOr(j, "do_rescale", true);
  if (j.contains("rescale_factor")) {
    if (!j["rescale_factor"].is_number()) return Corrupt(label + ": 'rescale_factor' must be a number");
    c.rescale_factor = j["rescale_factor"].get<double>();
  }
  c.do_normalize = BoolOr(j, "do_normalize", true);
  ACCEL_ASSIGN_OR_RETURN(c.mean, Triple(j, "image_mean", c.mean, label));
  ACCEL_ASSIGN_OR_RETURN(c.std, Triple(j, "image_std", c.std, label));
  for (float s : c.std) {
    if (c.do_normalize && s == 0.0f) return Corrupt(label + ": image_std contains 0");
  }
  return c;
}

Result<ImageProcessorConfig> ImageProcessorConfig::Load(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Corrupt(path + ": not valid JSON");
  return FromJson(j, path);
}

Result<ImagePipelineOutput> RunImagePipeline(const Image& image, const ImageProcessorConfig& c) {
  ImagePipelineOutput out;
  out.resized = image;
  if (c.do_resize) {
    int w = c.resize_width, h = c.resize_height;
    if (c.shortest_edge > 0 && c.longest_edge > 0) {
      std::tie(h, w) = DetrResizeOutputSize(image.height, image.width, c.shortest_edge, c.longest_edge);
    } else if (c.shortest_edge > 0) {
      // HF get_resize_output_image_size: the long edge is truncated, not rounded.
      const bool portrait = image.height > image.width;
      const int64_t shorter = portrait ? image.width : image.height, longer = portrait ? image.height : image.width;
      const int new_long = static_cast<int>(static_cast<int64_t>(c.shortest_edge) * longer / shorter);
      w = portrait ? c.shortest_edge : new_long;
      h = portrait ? new_long : c.shortest_edge;
    }
    ACCEL_ASSIGN_OR_RETURN(out.resized, ResizePil(image, w, h, c.resample));
  }
  const Image cropped = c.do_center_crop ? CenterCrop(out.resized, c.crop_width, c.crop_height) : out.resized;
  const int64_t h = cropped.height, w = cropped.width;
  ACCEL_ASSIGN_OR_RETURN(out.pixel_values, Tensor::Zeros(DType::kF32, {1, 3, h, w}));
  float* px = out.pixel_values.data<float>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int ch = 0; ch < 3; ++ch) {
        float v = cropped.rgb[(y * w + x) * 3 + ch];
        // HF rescales in float64 and casts to float32, then normalises in float32.
        if (c.do_rescale) v = static_cast<float>(static_cast<double>(cropped.rgb[(y * w + x) * 3 + ch]) * c.rescale_factor);
        if (c.do_normalize) v = (v - c.mean[ch]) / c.std[ch];
        px[(ch * h + y) * w + x] = v;
      }
    }
  }
  return out;
}

std::pair<int, int> DetrResizeOutputSize(int height, int width, int shortest_edge, int longest_edge) {
  double size = shortest_edge, raw = -1;
  const double lo = std::min(height, width), hi = std::max(height, width);
  if (longest_edge > 0 && hi / lo * size > longest_edge) {
    raw = longest_edge * lo / hi;
    size = std::nearbyint(raw);  // the default rounding mode: half to even, as Python's round()
  }
  const int s = static_cast<int>(size);
  if ((height <= width && height == s) || (width <= height && width == s)) return {height, width};
  const double base = raw >= 0 ? raw : size;
  if (width < height) return {static_cast<int>(base * height / width), s};
  return {s, static_cast<int>(base * width / height)};
}

}  // namespace accel::preprocess
