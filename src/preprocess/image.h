#pragma once
// Decoded images: 8-bit RGB, row-major HWC, as PIL's Image.convert("RGB") gives them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace accel::preprocess {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
};

struct DecodeOptions {
  // Images with more pixels are refused from their header, before any pixel is decoded
  // (a 20000x20000 PNG is 1.2 GB of RGB). PIL's own bomb threshold is about 179 Mpx.
  int64_t max_pixels = 100'000'000;
};

// PNG (any bit depth / colour type; alpha dropped, 16-bit truncated) or baseline/progressive
// JPEG, detected from the magic bytes. `label` names the source in errors.
Result<Image> DecodeImage(std::string_view bytes, const std::string& label, const DecodeOptions& options = {});
Result<Image> LoadImage(const std::string& path, const DecodeOptions& options = {});

}  // namespace accel::preprocess
