#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// LlavaForConditionalGeneration (llava) and LlavaNextForConditionalGeneration (llava_next):
// a CLIP vision tower, a two-layer projector and a llama-template language model whose
// image-token embeddings are replaced by the projected image features.
Result<std::unique_ptr<Model>> LoadLlava(ModelLoadContext& ctx);
}  // namespace accel
