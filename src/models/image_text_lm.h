#pragma once
// Implemented by vision-language models (LLaVA, LLaVA-NeXT): a causal language model whose
// prompt carries images. The prompt holds `ImageTokenCount` copies of `image_token_id` per
// image (the processor's expansion of one "<image>" placeholder); the prefill step replaces
// them with the image features; every later step is the language model's own. The generation
// loop (runtime/generation) runs over it through runtime/image_text_pipeline's adapter.
#include <cstdint>
#include <utility>
#include <vector>

#include "models/causal_lm.h"
#include "models/model.h"

namespace accel {

class ImageTextLm {
 public:
  virtual ~ImageTextLm() = default;
  virtual CausalLm& language_model() = 0;
  virtual int64_t image_token_id() const = 0;
  // Image tokens for one image of height x width pixels (before preprocessing).
  virtual Result<int64_t> ImageTokenCount(int64_t height, int64_t width) const = 0;
  // LLaVA-NeXT's grid resolutions (height, width) for anyres tiling; empty: one fixed-size image.
  virtual std::vector<std::pair<int64_t, int64_t>> grid_pinpoints() const { return {}; }
  // CausalLm::Step for a prompt [batch, n] whose image tokens take the features of `images`
  // (pixel_values, and image_sizes for anyres models).
  virtual Result<Tensor> StepWithImages(Exec& ex, decoder::KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                                        const TensorMap& images) = 0;
};

}  // namespace accel
