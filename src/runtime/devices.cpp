#include "runtime/devices.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/emulated/emulated_backend.h"
#include "core/device.h"
#include "core/thread_pool.h"
#if ACCEL_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif
#if ACCEL_WITH_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#endif

namespace accel {

Backend& HostBackend() {
  static CpuBackend backend(ThreadPool::Global());
  return backend;
}

std::vector<std::string> AvailableDevices() {
  std::vector<std::string> out;
#if ACCEL_WITH_CUDA
  if (cuda::DeviceCount() > 0) out.push_back("cuda");
#endif
  out.push_back("cpu");
  return out;
}

Result<std::unique_ptr<Backend>> CreateBackend(const std::string& spec) {
  const std::string name = spec == "auto" ? AvailableDevices().front() : spec;
  ACCEL_ASSIGN_OR_RETURN(Device device, ParseDevice(name));
  switch (device.kind) {
    case DeviceKind::kCpu:
      return std::unique_ptr<Backend>(new CpuBackend(ThreadPool::Global()));
    case DeviceKind::kCuda:
#if ACCEL_WITH_CUDA
      return cuda::CreateBackend(device.index);
#else
      return Unsupported("device '" + spec + "': this build has no CUDA backend (the CUDA toolkit was not found when it was configured)");
#endif
    case DeviceKind::kVulkan:
#if ACCEL_WITH_VULKAN
      return vulkan::CreateBackend(device.index);
#else
      return Unsupported("device '" + spec + "': this build has no Vulkan backend (the Vulkan headers or glslc were not found when it was configured)");
#endif
    case DeviceKind::kEmulated:
      return CreateEmulatedBackend(HostBackend());
  }
  return Unsupported("device '" + spec + "' is not available");
}

}  // namespace accel
