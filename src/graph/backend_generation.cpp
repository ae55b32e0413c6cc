// Default implementations of the text-generation operators: a backend that has not
// implemented them reports so by name instead of failing to compile.
#include <string>

#include "graph/backend.h"

namespace accel {

Status Backend::Rope(float*, int64_t, int64_t, const int64_t*, const RopeParams&) {
  return Unsupported(std::string(name()) + " backend has no Rope operator");
}
Status Backend::CachedAttention(const CachedAttentionArgs&, const AttentionParams&, Tensor&) {
  return Unsupported(std::string(name()) + " backend has no CachedAttention operator");
}
Status Backend::GatedActivation(const Tensor&, Activation, Tensor&) {
  return Unsupported(std::string(name()) + " backend has no GatedActivation operator");
}
Status Backend::Scale(Tensor&, float) { return Unsupported(std::string(name()) + " backend has no Scale operator"); }

}  // namespace accel
