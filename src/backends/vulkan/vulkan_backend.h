#pragma once
// The Vulkan compute backend (issue 16): Vulkan 1.1+ compute through the system loader
// (libvulkan.so.1, loaded at run time), GLSL shaders compiled to SPIR-V at build time and
// embedded in the library. Correctness first: f32 activations, simple kernels, one submit per
// batch of recorded dispatches. Ops it does not run natively fall back to the CPU (Exec).
#include <memory>

#include "graph/backend.h"

namespace accel::vulkan {

// Physical devices the loader reports (0 when there is no loader or no device).
int DeviceCount();
// The backend on physical device `index` (loader order, as `accel hw` lists them). Unsupported
// (one line saying why) when there is no loader or no such device.
Result<std::unique_ptr<Backend>> CreateBackend(int index);

}  // namespace accel::vulkan
