#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// WhisperForConditionalGeneration (model_type whisper); implements TextGenerator.
Result<std::unique_ptr<Model>> LoadWhisper(ModelLoadContext& ctx);
}  // namespace accel
