#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// CLIPModel (model_type clip): text and vision towers, projections, logit scale.
Result<std::unique_ptr<Model>> LoadClip(ModelLoadContext& ctx);
}  // namespace accel
