#pragma once
// Device names users type (--device cpu|auto) mapped to backends.
#include <memory>
#include <string>
#include <vector>

#include "graph/backend.h"

namespace accel {

// Backends this build can create, in order of preference for `auto`.
std::vector<std::string> AvailableDevices();
Result<std::unique_ptr<Backend>> CreateBackend(const std::string& device);

}  // namespace accel
