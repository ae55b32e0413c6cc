// OpenCL platforms and devices through the ICD loader (libOpenCL), which dispatches to every
// installed driver: PoCL's CPU device on Debian, vendor GPUs elsewhere.
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>

#include "hw/backend_probes.h"
#include "core/dynamic_library.h"

namespace accel::hw {

namespace {
using GetPlatformIDs = cl_int (*)(cl_uint, cl_platform_id*, cl_uint*);
using GetPlatformInfo = cl_int (*)(cl_platform_id, cl_platform_info, size_t, void*, size_t*);
using GetDeviceIDs = cl_int (*)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
using GetDeviceInfo = cl_int (*)(cl_device_id, cl_device_info, size_t, void*, size_t*);

std::string InfoString(GetDeviceInfo fn, cl_device_id dev, cl_device_info what) {
  char buf[256] = {};
  return fn(dev, what, sizeof(buf) - 1, buf, nullptr) == CL_SUCCESS ? std::string(buf) : std::string();
}

Result<std::vector<DeviceInfo>> QueryOpenCl(const DynamicLibrary& lib) {
  ACCEL_ASSIGN_OR_RETURN(auto get_platforms, lib.Symbol<GetPlatformIDs>("clGetPlatformIDs"));
  ACCEL_ASSIGN_OR_RETURN(auto platform_info, lib.Symbol<GetPlatformInfo>("clGetPlatformInfo"));
  ACCEL_ASSIGN_OR_RETURN(auto get_devices, lib.Symbol<GetDeviceIDs>("clGetDeviceIDs"));
  ACCEL_ASSIGN_OR_RETURN(auto device_info, lib.Symbol<GetDeviceInfo>("clGetDeviceInfo"));
  cl_uint num_platforms = 0;
  cl_int rc = get_platforms(0, nullptr, &num_platforms);
  // -1001 = CL_PLATFORM_NOT_FOUND_KHR: the loader is installed but no driver (ICD) is.
  if (rc == -1001 || (rc == CL_SUCCESS && num_platforms == 0)) return std::vector<DeviceInfo>{};
  if (rc != CL_SUCCESS) return Internal(lib.name() + ": clGetPlatformIDs failed with code " + std::to_string(rc));
  if (num_platforms > 32) num_platforms = 32;
  std::vector<cl_platform_id> platforms(num_platforms);
  if (get_platforms(num_platforms, platforms.data(), nullptr) != CL_SUCCESS)
    return Internal(lib.name() + ": clGetPlatformIDs failed listing platforms");
  std::vector<DeviceInfo> out;
  for (cl_platform_id p : platforms) {
    char pname[256] = {};
    platform_info(p, CL_PLATFORM_NAME, sizeof(pname) - 1, pname, nullptr);
    cl_uint n = 0;
    if (get_devices(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
    if (n > 64) n = 64;
    std::vector<cl_device_id> devs(n);
    if (get_devices(p, CL_DEVICE_TYPE_ALL, n, devs.data(), nullptr) != CL_SUCCESS) continue;
    for (cl_device_id dev : devs) {
      DeviceInfo d;
      d.name = InfoString(device_info, dev, CL_DEVICE_NAME);
      d.compute_capability = InfoString(device_info, dev, CL_DEVICE_VERSION);
      d.detail = std::string("platform ") + pname;
      cl_device_type type = 0;
      device_info(dev, CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
      d.type = (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator";
      cl_ulong mem = 0;
      if (device_info(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(mem), &mem, nullptr) == CL_SUCCESS)
        d.memory_total_bytes = static_cast<int64_t>(mem);
      out.push_back(d);
    }
  }
  return out;
}
}  // namespace

BackendReport ProbeOpenCl(const HwSources& sources) {
  BackendReport r;
  r.name = "opencl";
  std::string note;
  const std::set<std::string> before = LoadedObjects();
  auto lib = DynamicLibrary::OpenFirst(sources.opencl_libs);
  if (!lib.ok()) {
    note = "OpenCL ICD loader not installed: " + lib.status().message();
  } else {
    r.runtime = (*lib)->name();
    auto devices = QueryOpenCl(**lib);
    if (devices.ok()) r.devices = std::move(*devices);
    else note = devices.status().message();
    if (devices.ok() && r.devices.empty()) note = "no OpenCL driver (ICD) reports a device";
    PinNewlyLoaded(before);  // the ICD loader and drivers (PoCL) stay mapped: see dynamic_library.h
  }
  r.hardware_found = !r.devices.empty();
  FinishReport(r, note);
  return r;
}

}  // namespace accel::hw
