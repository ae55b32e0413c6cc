#pragma once
#include <cmath>
#include <memory>

#include "models/model.h"

namespace accel {
// BERT-template encoders (bert, roberta, xlm-roberta, camembert, distilbert, electra, albert).
Result<std::unique_ptr<Model>> LoadBertEncoder(ModelLoadContext& ctx);
}  // namespace accel
