#pragma once
// Scalar reference activations: the generic backend path and the ground truth in tests.
#include <cmath>

#include "graph/backend.h"

namespace accel::cpu {

inline float ActivateScalar(Activation act, float x) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kGeluErf: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case Activation::kGeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Activation::kQuickGelu: return x / (1.0f + std::exp(-1.702f * x));
    case Activation::kSilu: return x / (1.0f + std::exp(-x));
    case Activation::kRelu: return x > 0 ? x : 0.0f;
    case Activation::kTanh: return std::tanh(x);
  }
  return x;
}

}  // namespace accel::cpu
