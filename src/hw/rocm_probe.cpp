// AMD GPUs through the HIP runtime (libamdhip64), loaded at run time.
#include <cstddef>

#include "hw/backend_probes.h"
#include "core/dynamic_library.h"

namespace accel::hw {

namespace {
using HipGetDeviceCount = int (*)(int*);
using HipDeviceGetName = int (*)(char*, int, int);
using HipDeviceTotalMem = int (*)(size_t*, int);
using HipDriverGetVersion = int (*)(int*);

Result<std::vector<DeviceInfo>> QueryHip(const DynamicLibrary& lib, std::string* version) {
  ACCEL_ASSIGN_OR_RETURN(auto get_count, lib.Symbol<HipGetDeviceCount>("hipGetDeviceCount"));
  ACCEL_ASSIGN_OR_RETURN(auto get_name, lib.Symbol<HipDeviceGetName>("hipDeviceGetName"));
  ACCEL_ASSIGN_OR_RETURN(auto total_mem, lib.Symbol<HipDeviceTotalMem>("hipDeviceTotalMem"));
  auto driver = lib.Symbol<HipDriverGetVersion>("hipDriverGetVersion");
  int v = 0;
  if (driver.ok() && (*driver)(&v) == 0 && v > 0) *version = std::to_string(v);
  int count = 0;
  if (int rc = get_count(&count); rc != 0)
    return Internal(lib.name() + ": hipGetDeviceCount failed with code " + std::to_string(rc));
  std::vector<DeviceInfo> out;
  for (int i = 0; i < count && i < 64; ++i) {
    DeviceInfo d;
    d.type = "gpu";
    char name[128] = {};
    if (get_name(name, sizeof(name) - 1, i) == 0) d.name = name;
    size_t bytes = 0;
    if (total_mem(&bytes, i) == 0) d.memory_total_bytes = static_cast<int64_t>(bytes);
    out.push_back(d);
  }
  return out;
}
}  // namespace

BackendReport ProbeRocm(const HwSources& sources) {
  BackendReport r;
  r.name = "rocm";
  std::string note;
  auto lib = DynamicLibrary::OpenFirst(sources.hip_libs);
  if (!lib.ok()) {
    note = "HIP runtime not installed: " + lib.status().message();
  } else {
    auto devices = QueryHip(**lib, &r.driver_version);
    r.runtime = (*lib)->name();
    if (devices.ok()) {
      r.devices = std::move(*devices);
      if (r.devices.empty()) note = "the HIP runtime reports no devices";
    } else {
      note = devices.status().message();
    }
  }
  r.hardware_found = !r.devices.empty();
  FinishReport(r, note);
  return r;
}

}  // namespace accel::hw
