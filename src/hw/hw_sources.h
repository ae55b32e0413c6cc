#pragma once
// Where hardware detection reads from. The defaults are the live machine; tests (and users
// reproducing a report from another machine) point them at fixture files or fake libraries.
// Environment overrides, read by FromEnv():
//   ACCEL_HW_CPUINFO, ACCEL_HW_MEMINFO, ACCEL_HW_SYSFS_CPU   fixture /proc and /sys files
//   ACCEL_HW_CUDA_LIB, ACCEL_HW_NVML_LIB, ACCEL_HW_HIP_LIB,
//   ACCEL_HW_OPENVINO_LIB, ACCEL_HW_OPENCL_LIB, ACCEL_HW_VULKAN_LIB   one library path each
//   ACCEL_HW_BROWSER                                         a Chromium binary path
//   ACCEL_HW_NUMA_SYNTHETIC                                  an hwloc synthetic topology
#include <string>
#include <vector>

namespace accel::hw {

struct HwSources {
  std::string cpuinfo_path = "/proc/cpuinfo";
  std::string meminfo_path = "/proc/meminfo";
  std::string sysfs_cpu_dir = "/sys/devices/system/cpu";
  // True when the CPU being described is this process's CPU, so CPUID is authoritative for
  // the ISA (it also knows what the OS enabled); false for fixture files.
  bool live_cpu = true;
  // Library names tried in order with dlopen.
  std::vector<std::string> cuda_libs = {"libcuda.so.1", "libcuda.so"};
  std::vector<std::string> nvml_libs = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
  std::vector<std::string> hip_libs = {"libamdhip64.so.6", "libamdhip64.so.5", "libamdhip64.so"};
  std::vector<std::string> openvino_libs = {"libopenvino_c.so", "libopenvino_c.so.2024.0.0"};
  std::vector<std::string> opencl_libs = {"libOpenCL.so.1", "libOpenCL.so"};
  std::vector<std::string> vulkan_libs = {"libvulkan.so.1", "libvulkan.so"};
  std::vector<std::string> browsers = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                                       "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"};
  std::string numa_synthetic;  // e.g. "package:2 numa:1 core:4 pu:2"; empty = this machine

  // The live machine with the environment overrides above applied.
  static HwSources FromEnv();
};

}  // namespace accel::hw
