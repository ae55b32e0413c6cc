// Intel OpenVINO runtime through its C API (libopenvino_c): the device names it can run on
// ("CPU", "GPU.0", "NPU").
#include <cstddef>

#include "hw/backend_probes.h"
#include "core/dynamic_library.h"

namespace accel::hw {

namespace {
struct OvAvailableDevices {
  char** devices;
  size_t size;
};
struct OvVersion {
  const char* build_number;
  const char* description;
};
using OvCoreCreate = int (*)(void**);
using OvCoreFree = void (*)(void*);
using OvCoreGetAvailableDevices = int (*)(const void*, OvAvailableDevices*);
using OvAvailableDevicesFree = void (*)(OvAvailableDevices*);
using OvGetVersion = int (*)(OvVersion*);
using OvVersionFree = void (*)(OvVersion*);

Result<std::vector<DeviceInfo>> QueryOpenVino(const DynamicLibrary& lib, std::string* version) {
  ACCEL_ASSIGN_OR_RETURN(auto core_create, lib.Symbol<OvCoreCreate>("ov_core_create"));
  ACCEL_ASSIGN_OR_RETURN(auto core_free, lib.Symbol<OvCoreFree>("ov_core_free"));
  ACCEL_ASSIGN_OR_RETURN(auto get_devices, lib.Symbol<OvCoreGetAvailableDevices>("ov_core_get_available_devices"));
  ACCEL_ASSIGN_OR_RETURN(auto devices_free, lib.Symbol<OvAvailableDevicesFree>("ov_available_devices_free"));
  auto get_version = lib.Symbol<OvGetVersion>("ov_get_openvino_version");
  auto version_free = lib.Symbol<OvVersionFree>("ov_version_free");
  if (get_version.ok() && version_free.ok()) {
    OvVersion v{};
    if ((*get_version)(&v) == 0) {
      if (v.build_number) *version = v.build_number;
      (*version_free)(&v);
    }
  }
  void* core = nullptr;
  if (int rc = core_create(&core); rc != 0 || !core)
    return Internal(lib.name() + ": ov_core_create failed with code " + std::to_string(rc));
  OvAvailableDevices list{};
  int rc = get_devices(core, &list);
  std::vector<DeviceInfo> out;
  if (rc == 0) {
    for (size_t i = 0; i < list.size && i < 64; ++i) {
      std::string name = list.devices[i] ? list.devices[i] : "";
      DeviceInfo d;
      d.name = name;
      d.type = name.rfind("CPU", 0) == 0 ? "cpu" : name.rfind("GPU", 0) == 0 ? "gpu" : "accelerator";
      out.push_back(d);
    }
    devices_free(&list);
  }
  core_free(core);
  if (rc != 0) return Internal(lib.name() + ": ov_core_get_available_devices failed with code " + std::to_string(rc));
  return out;
}
}  // namespace

BackendReport ProbeOpenVino(const HwSources& sources) {
  BackendReport r;
  r.name = "openvino";
  std::string note;
  auto lib = DynamicLibrary::OpenFirst(sources.openvino_libs);
  if (!lib.ok()) {
    note = "OpenVINO runtime not installed: " + lib.status().message();
  } else {
    r.runtime = (*lib)->name();
    auto devices = QueryOpenVino(**lib, &r.driver_version);
    if (devices.ok()) r.devices = std::move(*devices);
    else note = devices.status().message();
    if (devices.ok() && r.devices.empty()) note = "OpenVINO reports no devices";
  }
  r.hardware_found = !r.devices.empty();
  FinishReport(r, note);
  return r;
}

}  // namespace accel::hw
