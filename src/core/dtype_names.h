#pragma once
// Element types as users type them on the command line and in configs ("f32", "bf16", "q4_k").
#include <optional>
#include <string_view>

#include "core/dtype.h"

namespace accel {

// The lower-case name Name() prints, case-insensitively; nullopt for anything else.
std::optional<DType> DTypeFromName(std::string_view name);

}  // namespace accel
