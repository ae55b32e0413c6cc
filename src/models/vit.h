#pragma once
#include <memory>

#include "models/model.h"

namespace accel {
// ViT-template image encoders (vit, deit): ViTModel, ViTForImageClassification, DeiTModel.
Result<std::unique_ptr<Model>> LoadVit(ModelLoadContext& ctx);
}  // namespace accel
