#pragma once
// Image operations with PIL's exact results: Image.resize (separable, antialiased filters in
// 8-bit fixed point with a rounded uint8 image between the horizontal and vertical passes),
// and HF's centre crop (floor-division offsets, zero padding when the crop is larger).
#include "preprocess/image.h"

namespace accel::preprocess {

// PIL resample ids: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming.
Result<Image> ResizePil(const Image& in, int width, int height, int resample);

Image CenterCrop(const Image& in, int width, int height);

}  // namespace accel::preprocess
