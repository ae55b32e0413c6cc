#include "runtime/devices.h"

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"

namespace accel {

std::vector<std::string> AvailableDevices() { return {"cpu"}; }

Result<std::unique_ptr<Backend>> CreateBackend(const std::string& device) {
  if (device == "cpu" || device == "auto") return std::unique_ptr<Backend>(new CpuBackend(ThreadPool::Global()));
  return Unsupported("device '" + device + "' is not available in this build (available: cpu)");
}

}  // namespace accel
