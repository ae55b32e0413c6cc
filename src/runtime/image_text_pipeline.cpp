#include "runtime/image_text_pipeline.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/mapped_file.h"
#include "models/llava/anyres.h"
#include "preprocess/image_ops.h"
#include "preprocess/image_processor.h"

namespace accel::runtime {

namespace {

// Rows [y0, y0 + h) x columns [x0, x0 + w) of an image.
preprocess::Image Crop(const preprocess::Image& in, int x0, int y0, int w, int h) {
  preprocess::Image out;
  out.width = w;
  out.height = h;
  out.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    std::copy_n(in.rgb.begin() + (static_cast<size_t>(y0 + y) * in.width + x0) * 3, static_cast<size_t>(w) * 3,
                out.rgb.begin() + static_cast<size_t>(y) * w * 3);
  }
  return out;
}

// LlavaNextImageProcessor.get_image_patches: the image resized into the best grid resolution
// (aspect kept, HF get_patch_output_size), zero-padded to it centred (the odd pixel right and
// bottom), cut into tile x tile patches row-major, after the whole image resized to base x base.
Result<std::vector<preprocess::Image>> AnyresTiles(const preprocess::Image& image, const std::vector<llava::Resolution>& pins,
                                                   int tile, int base, int resample) {
  ACCEL_ASSIGN_OR_RETURN(llava::Resolution best, llava::SelectBestResolution({image.height, image.width}, pins));
  const double scale_w = static_cast<double>(best.width) / image.width, scale_h = static_cast<double>(best.height) / image.height;
  int64_t new_w = 0, new_h = 0;
  if (scale_w < scale_h) {
    new_w = best.width;
    new_h = std::min<int64_t>(static_cast<int64_t>(std::ceil(image.height * scale_w)), best.height);
  } else {
    new_h = best.height;
    new_w = std::min<int64_t>(static_cast<int64_t>(std::ceil(image.width * scale_h)), best.width);
  }
  ACCEL_ASSIGN_OR_RETURN(preprocess::Image resized, preprocess::ResizePil(image, static_cast<int>(new_w), static_cast<int>(new_h), resample));
  preprocess::Image padded;
  padded.width = static_cast<int>(best.width);
  padded.height = static_cast<int>(best.height);
  padded.rgb.assign(static_cast<size_t>(padded.width) * padded.height * 3, 0);
  const int64_t px = (best.width - new_w) / 2, py = (best.height - new_h) / 2;
  for (int64_t y = 0; y < new_h; ++y) {
    std::copy_n(resized.rgb.begin() + y * new_w * 3, new_w * 3, padded.rgb.begin() + ((py + y) * best.width + px) * 3);
  }
  std::vector<preprocess::Image> tiles;
  ACCEL_ASSIGN_OR_RETURN(preprocess::Image whole, preprocess::ResizePil(image, base, base, resample));
  tiles.push_back(std::move(whole));
  for (int y = 0; y < padded.height; y += tile) {
    for (int x = 0; x < padded.width; x += tile) tiles.push_back(Crop(padded, x, y, tile, tile));
  }
  return tiles;
}

}  // namespace

Result<ImageInputs> PrepareImage(const preprocess::Image& image, const nlohmann::json& j, const std::string& label,
                                 const std::vector<std::pair<int64_t, int64_t>>& grid_pinpoints) {
  ACCEL_ASSIGN_OR_RETURN(auto cfg, preprocess::ImageProcessorConfig::FromJson(j, label));
  ImageInputs in;
  in.height = image.height;
  in.width = image.width;
  if (grid_pinpoints.empty()) {
    ACCEL_ASSIGN_OR_RETURN(auto pre, preprocess::RunImagePipeline(image, cfg));
    in.tensors["pixel_values"] = std::move(pre.pixel_values);
    return in;
  }
  std::vector<llava::Resolution> pins;
  for (const auto& [h, w] : grid_pinpoints) pins.push_back({h, w});
  if (j.contains("image_grid_pinpoints") && j["image_grid_pinpoints"] != nlohmann::json(grid_pinpoints)) {
    return Corrupt(label + ": image_grid_pinpoints differ from config.json's");
  }
  const int tile = cfg.do_center_crop ? cfg.crop_height : cfg.resize_height;
  const int base = cfg.shortest_edge > 0 ? cfg.shortest_edge : std::min(cfg.resize_height, cfg.resize_width);
  if (tile <= 0 || base <= 0) return Unsupported(label + ": anyres tiles need size and crop_size");
  ACCEL_ASSIGN_OR_RETURN(std::vector<preprocess::Image> tiles, AnyresTiles(image, pins, tile, base, cfg.resample));
  std::vector<Tensor> pixels;
  for (const auto& t : tiles) {
    ACCEL_ASSIGN_OR_RETURN(auto pre, preprocess::RunImagePipeline(t, cfg));
    pixels.push_back(std::move(pre.pixel_values));
  }
  const Shape& s = pixels.front().shape();
  ACCEL_ASSIGN_OR_RETURN(Tensor all, Tensor::Zeros(DType::kF32, {1, static_cast<int64_t>(pixels.size()), s[1], s[2], s[3]}));
  const size_t each = pixels.front().numel();
  for (size_t i = 0; i < pixels.size(); ++i) {
    if (pixels[i].shape() != s) return Internal(label + ": anyres tiles of different sizes");
    std::copy_n(pixels[i].data<float>(), each, all.data<float>() + i * each);
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor sizes, Tensor::Zeros(DType::kI64, {1, 2}));
  sizes.data<int64_t>()[0] = image.height;
  sizes.data<int64_t>()[1] = image.width;
  in.tensors["pixel_values"] = std::move(all);
  in.tensors["image_sizes"] = std::move(sizes);
  return in;
}

Result<ImageInputs> PrepareImage(LoadedModel& model, const std::string& image_path, const preprocess::DecodeOptions& decode) {
  auto* vl = dynamic_cast<ImageTextLm*>(&model.model());
  if (!vl) return InvalidArgument(model.model().architecture() + " does not take images in its prompt");
  const std::string cfg_path = (std::filesystem::path(model.dir()) / "preprocessor_config.json").string();
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(cfg_path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(cfg_path + ": not a JSON object");
  ACCEL_ASSIGN_OR_RETURN(preprocess::Image image, preprocess::LoadImage(image_path, decode));
  return PrepareImage(image, j, cfg_path, vl->grid_pinpoints());
}

Result<std::vector<int64_t>> ExpandImageTokens(const std::vector<int64_t>& ids, int64_t image_token, int64_t count, int64_t bos) {
  const auto n = std::count(ids.begin(), ids.end(), image_token);
  if (n > 1) return InvalidArgument("the prompt holds " + std::to_string(n) + " image placeholders; one image, one placeholder");
  std::vector<int64_t> out;
  std::vector<int64_t> prompt = ids;
  if (n == 0) prompt.insert(prompt.begin() + (!prompt.empty() && prompt.front() == bos ? 1 : 0), image_token);
  for (int64_t id : prompt) {
    if (id == image_token) {
      out.insert(out.end(), static_cast<size_t>(count), image_token);
    } else {
      out.push_back(id);
    }
  }
  return out;
}

Result<Tensor> ImagePromptLm::Step(Exec& ex, decoder::KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                                   bool all_logits) {
  if (cache.length() == 0 && !all_logits) return model_.StepWithImages(ex, cache, ids, mask, images_);
  if (cache.length() == 0) return Unsupported("an image prompt's logits come for its last token only");
  return model_.language_model().Step(ex, cache, ids, mask, all_logits);
}

}  // namespace accel::runtime
