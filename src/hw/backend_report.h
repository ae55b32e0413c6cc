#pragma once
// What one compute backend looks like on this machine: the hardware and runtime that exist,
// and whether the engine can use them. "Available" needs both; the reason says which is
// missing, in words a user can act on.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accel::hw {

struct DeviceInfo {
  std::string name;
  std::string type;                 // "cpu", "gpu", "integrated-gpu", "accelerator", "browser"
  int64_t memory_total_bytes = 0;   // 0 = unknown
  int64_t memory_free_bytes = -1;   // -1 = unknown
  std::string compute_capability;   // CUDA "8.0", OpenCL/Vulkan API version, ...
  std::string detail;               // platform, PCI bus id, driver name
};

struct BackendReport {
  std::string name;                 // "cpu", "cuda", "rocm", "openvino", "opencl", "vulkan", "mps", "webgpu", "webnn"
  bool hardware_found = false;      // the runtime loaded and reported at least one device
  std::string runtime;              // library that answered, with version where known
  std::string driver_version;
  std::vector<DeviceInfo> devices;
  bool engine_backend_built = false;
  bool available = false;           // hardware_found && engine_backend_built
  std::string reason;               // why not available (or what was found)
};

// Whether this build of the engine has kernels for `backend`. The one place to flip when a
// backend lands (src/backends/<name>/).
bool EngineHasBackend(std::string_view backend);

// Sets available/reason from hardware_found, engine_backend_built and a detection note.
void FinishReport(BackendReport& report, const std::string& detection_note);

}  // namespace accel::hw
