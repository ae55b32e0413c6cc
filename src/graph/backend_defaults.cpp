// Fallbacks for operators added after the first backends: a backend that does not implement
// one reports it as unsupported instead of failing to build.
#include "graph/backend.h"

namespace accel {

Status Backend::TransposeLast2(const Tensor&, Tensor&) {
  return Unsupported(std::string(name()) + " backend has no TransposeLast2");
}

Status Backend::GroupNorm(const Tensor&, int, const Tensor&, const Tensor*, float, Tensor&) {
  return Unsupported(std::string(name()) + " backend has no GroupNorm");
}

Status Backend::AttentionWithBias(const float*, int64_t, const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                                  const AttentionParams&, const float*, Tensor&) {
  return Unsupported(std::string(name()) + " backend has no AttentionWithBias");
}

}  // namespace accel
