// CUDA devices through the driver API (libcuda) for names and compute capability, and NVML
// (libnvidia-ml) for free memory and the driver version. Either library alone is enough to
// say the hardware exists; a library with missing symbols or failing calls is reported.
#include <cstddef>
#include <map>

#include "hw/backend_probes.h"
#include "core/dynamic_library.h"

namespace accel::hw {

namespace {

// The few driver-API and NVML entry points used, declared with their C ABI (no CUDA headers).
using CuInit = int (*)(unsigned);
using CuDriverGetVersion = int (*)(int*);
using CuDeviceGetCount = int (*)(int*);
using CuDeviceGet = int (*)(int*, int);
using CuDeviceGetName = int (*)(char*, int, int);
using CuDeviceGetAttribute = int (*)(int*, int, int);
using CuDeviceTotalMem = int (*)(size_t*, int);
using CuDeviceGetPciBusId = int (*)(char*, int, int);
constexpr int kAttrComputeMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrComputeMinor = 76;

struct NvmlMemory {
  unsigned long long total, free, used;
};
using NvmlDevice = void*;
using NvmlInit = int (*)();
using NvmlShutdown = int (*)();
using NvmlSystemGetDriverVersion = int (*)(char*, unsigned);
using NvmlDeviceGetCount = int (*)(unsigned*);
using NvmlDeviceGetHandleByIndex = int (*)(unsigned, NvmlDevice*);
using NvmlDeviceGetName = int (*)(NvmlDevice, char*, unsigned);
using NvmlDeviceGetMemoryInfo = int (*)(NvmlDevice, NvmlMemory*);

struct NvmlDeviceInfo {
  std::string name;
  int64_t total = 0, free = -1;
};

struct NvmlResult {
  std::string driver_version;
  std::vector<NvmlDeviceInfo> devices;
};

Result<NvmlResult> QueryNvml(const DynamicLibrary& lib) {
  ACCEL_ASSIGN_OR_RETURN(auto init, lib.Symbol<NvmlInit>("nvmlInit_v2"));
  ACCEL_ASSIGN_OR_RETURN(auto shutdown, lib.Symbol<NvmlShutdown>("nvmlShutdown"));
  ACCEL_ASSIGN_OR_RETURN(auto get_count, lib.Symbol<NvmlDeviceGetCount>("nvmlDeviceGetCount_v2"));
  ACCEL_ASSIGN_OR_RETURN(auto get_handle, lib.Symbol<NvmlDeviceGetHandleByIndex>("nvmlDeviceGetHandleByIndex_v2"));
  ACCEL_ASSIGN_OR_RETURN(auto get_name, lib.Symbol<NvmlDeviceGetName>("nvmlDeviceGetName"));
  ACCEL_ASSIGN_OR_RETURN(auto get_mem, lib.Symbol<NvmlDeviceGetMemoryInfo>("nvmlDeviceGetMemoryInfo"));
  auto driver = lib.Symbol<NvmlSystemGetDriverVersion>("nvmlSystemGetDriverVersion");
  if (int rc = init(); rc != 0) return Internal(lib.name() + ": nvmlInit_v2 failed with code " + std::to_string(rc));
  NvmlResult out;
  char buf[96] = {};
  if (driver.ok() && (*driver)(buf, sizeof(buf) - 1) == 0) out.driver_version = buf;
  unsigned count = 0;
  if (int rc = get_count(&count); rc != 0) {
    shutdown();
    return Internal(lib.name() + ": nvmlDeviceGetCount_v2 failed with code " + std::to_string(rc));
  }
  for (unsigned i = 0; i < count && i < 64; ++i) {
    NvmlDevice dev = nullptr;
    NvmlDeviceInfo info;
    if (get_handle(i, &dev) != 0) continue;
    char name[96] = {};
    if (get_name(dev, name, sizeof(name) - 1) == 0) info.name = name;
    NvmlMemory mem{};
    if (get_mem(dev, &mem) == 0) {
      info.total = static_cast<int64_t>(mem.total);
      info.free = static_cast<int64_t>(mem.free);
    }
    out.devices.push_back(info);
  }
  shutdown();
  return out;
}

struct CudaResult {
  int driver_version = 0;
  std::vector<DeviceInfo> devices;
};

Result<CudaResult> QueryDriver(const DynamicLibrary& lib) {
  ACCEL_ASSIGN_OR_RETURN(auto init, lib.Symbol<CuInit>("cuInit"));
  ACCEL_ASSIGN_OR_RETURN(auto get_version, lib.Symbol<CuDriverGetVersion>("cuDriverGetVersion"));
  ACCEL_ASSIGN_OR_RETURN(auto get_count, lib.Symbol<CuDeviceGetCount>("cuDeviceGetCount"));
  ACCEL_ASSIGN_OR_RETURN(auto get_device, lib.Symbol<CuDeviceGet>("cuDeviceGet"));
  ACCEL_ASSIGN_OR_RETURN(auto get_name, lib.Symbol<CuDeviceGetName>("cuDeviceGetName"));
  ACCEL_ASSIGN_OR_RETURN(auto get_attr, lib.Symbol<CuDeviceGetAttribute>("cuDeviceGetAttribute"));
  ACCEL_ASSIGN_OR_RETURN(auto total_mem, lib.Symbol<CuDeviceTotalMem>("cuDeviceTotalMem_v2"));
  auto bus_id = lib.Symbol<CuDeviceGetPciBusId>("cuDeviceGetPCIBusId");
  // 100 = CUDA_ERROR_NO_DEVICE: the driver is installed but sees no GPU.
  if (int rc = init(0); rc != 0)
    return Internal(lib.name() + ": cuInit failed with code " + std::to_string(rc) +
                    (rc == 100 ? " (no CUDA device)" : ""));
  CudaResult out;
  get_version(&out.driver_version);
  int count = 0;
  if (int rc = get_count(&count); rc != 0)
    return Internal(lib.name() + ": cuDeviceGetCount failed with code " + std::to_string(rc));
  for (int i = 0; i < count && i < 64; ++i) {
    int dev = 0;
    if (get_device(&dev, i) != 0) continue;
    DeviceInfo d;
    d.type = "gpu";
    char name[128] = {};
    if (get_name(name, sizeof(name) - 1, dev) == 0) d.name = name;
    int major = 0, minor = 0;
    if (get_attr(&major, kAttrComputeMajor, dev) == 0 && get_attr(&minor, kAttrComputeMinor, dev) == 0)
      d.compute_capability = std::to_string(major) + "." + std::to_string(minor);
    size_t bytes = 0;
    if (total_mem(&bytes, dev) == 0) d.memory_total_bytes = static_cast<int64_t>(bytes);
    char bus[32] = {};
    if (bus_id.ok() && (*bus_id)(bus, sizeof(bus) - 1, dev) == 0) d.detail = std::string("pci ") + bus;
    out.devices.push_back(d);
  }
  return out;
}

std::string FormatCudaVersion(int v) {
  return v <= 0 ? "" : std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

BackendReport ProbeCuda(const HwSources& sources) {
  BackendReport r;
  r.name = "cuda";
  std::string note;
  auto cuda_lib = DynamicLibrary::OpenFirst(sources.cuda_libs);
  auto nvml_lib = DynamicLibrary::OpenFirst(sources.nvml_libs);
  Result<CudaResult> cuda = cuda_lib.ok() ? QueryDriver(**cuda_lib) : Result<CudaResult>(cuda_lib.status());
  Result<NvmlResult> nvml = nvml_lib.ok() ? QueryNvml(**nvml_lib) : Result<NvmlResult>(nvml_lib.status());

  if (cuda.ok()) {
    r.devices = cuda->devices;
    r.runtime = (*cuda_lib)->name() + " (CUDA " + FormatCudaVersion(cuda->driver_version) + ")";
  } else {
    note = "driver API: " + cuda.status().message();
  }
  if (nvml.ok()) {
    r.driver_version = nvml->driver_version;
    if (r.devices.empty()) {
      // No driver API (or it failed): NVML alone still names the GPUs.
      for (const auto& n : nvml->devices) r.devices.push_back({n.name, "gpu", n.total, n.free, "", "from NVML"});
      if (r.runtime.empty()) r.runtime = (*nvml_lib)->name();
    } else {
      // NVML orders by PCI bus, CUDA by speed unless CUDA_DEVICE_ORDER=PCI_BUS_ID; match by name
      // and total memory, which is exact for identical cards too (they are interchangeable).
      std::vector<bool> used(nvml->devices.size(), false);
      for (auto& d : r.devices) {
        for (size_t j = 0; j < nvml->devices.size(); ++j) {
          if (used[j] || nvml->devices[j].name != d.name) continue;
          used[j] = true;
          d.memory_free_bytes = nvml->devices[j].free;
          break;
        }
      }
    }
  } else {
    note += std::string(note.empty() ? "" : "; ") + "NVML: " + nvml.status().message();
  }
  r.hardware_found = !r.devices.empty();
  if (!r.hardware_found && note.empty()) note = "the CUDA driver reports no devices";
  FinishReport(r, note);
  return r;
}

}  // namespace accel::hw
