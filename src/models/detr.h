#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// DETR (DetrForObjectDetection) with an HF ResNet backbone (use_timm_backbone: false).
Result<std::unique_ptr<Model>> LoadDetr(ModelLoadContext& ctx);
}  // namespace accel
