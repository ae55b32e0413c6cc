#pragma once
// Device names users type (--device cpu|cuda[:N]|auto) mapped to backends.
#include <memory>
#include <string>
#include <vector>

#include "graph/backend.h"

namespace accel {

// Backends this build can create on this machine, in order of preference for `auto`.
std::vector<std::string> AvailableDevices();
// "cpu", "cuda", "cuda:N" or "auto" (the first of AvailableDevices()). A device this build or
// machine cannot provide is an Unsupported error that says why.
Result<std::unique_ptr<Backend>> CreateBackend(const std::string& device);
// The process-wide CPU backend that runs what a device backend lacks.
Backend& HostBackend();

}  // namespace accel
