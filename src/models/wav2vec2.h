#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// Wav2Vec2Model / Wav2Vec2ForCTC (model_type wav2vec2), both feature-encoder norm variants.
Result<std::unique_ptr<Model>> LoadWav2Vec2(ModelLoadContext& ctx);
}  // namespace accel
