#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// T5 / mT5 encoder-decoders for conditional generation (model_type t5, mt5); TextGenerator.
Result<std::unique_ptr<Model>> LoadT5(ModelLoadContext& ctx);
}  // namespace accel
