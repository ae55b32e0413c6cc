#include "graph/backend.h"

#include <string>

namespace accel {

Result<Activation> ActivationFromHf(std::string_view name) {
  if (name == "gelu" || name == "gelu_python") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast" || name == "gelu_tanh") return Activation::kGeluTanh;
  if (name == "quick_gelu") return Activation::kQuickGelu;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "linear" || name == "identity") return Activation::kNone;
  return Unsupported("activation '" + std::string(name) + "' is not supported");
}

}  // namespace accel
