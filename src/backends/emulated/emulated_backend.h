#pragma once
// The CPU behind a device boundary. Its tensors live in host memory but are tagged with the
// "emulated" device, so host code that reads them without a download stops with an error, and
// it declines the ops a GPU backend typically lacks so that Exec's fallback path runs. Every
// fixture runs through it in CI (`accel verify --device emulated`): the device model is tested
// on machines without a GPU.
#include <memory>

#include "graph/backend.h"

namespace accel {

std::unique_ptr<Backend> CreateEmulatedBackend(Backend& host);

}  // namespace accel
