#include "models/model.h"

#include <algorithm>

namespace accel {

Result<Tensor> ModelLoadContext::F32(const std::string& name, const Shape& shape) {
  ACCEL_ASSIGN_OR_RETURN(Tensor t, weights.Get(name, shape));
  if (t.dtype() == DType::kF32) return t;
  if (!Info(t.dtype()).is_float || Info(t.dtype()).is_quantized) {
    return Unsupported(weights.label() + ": tensor '" + name + "' has dtype " + std::string(Name(t.dtype())));
  }
  return t.ToF32();
}

Result<LinearLayer> ModelLoadContext::Linear(const std::string& name, int64_t out, int64_t in, bool bias) {
  LinearLayer layer;
  ACCEL_ASSIGN_OR_RETURN(Tensor w, weights.Get(name + ".weight", {out, in}));
  ACCEL_ASSIGN_OR_RETURN(layer.weight, backend.PackLinear(w, compute));
  layer.sources = {name + ".weight"};
  if (bias) {
    ACCEL_ASSIGN_OR_RETURN(layer.bias, F32(name + ".bias", {out}));
  }
  return layer;
}

int64_t GreedyNextToken(const GenerateRequest& request, const std::vector<int64_t>& ids, const float* logits, int64_t vocab,
                        std::vector<float>& scratch) {
  if (request.process_logits) {
    scratch.assign(logits, logits + vocab);
    request.process_logits(ids, scratch.data(), vocab);
    logits = scratch.data();
  }
  return std::max_element(logits, logits + vocab) - logits;
}

}  // namespace accel
