#include "hw/hw_sources.h"

#include <cstdlib>

namespace accel::hw {

namespace {
// Replaces `target` with the single path named by `var`, when set and non-empty.
bool Override(const char* var, std::string& target) {
  const char* v = std::getenv(var);
  if (!v || !*v) return false;
  target = v;
  return true;
}
void OverrideList(const char* var, std::vector<std::string>& target) {
  std::string one;
  if (Override(var, one)) target = {one};
}
}  // namespace

HwSources HwSources::FromEnv() {
  HwSources s;
  if (Override("ACCEL_HW_CPUINFO", s.cpuinfo_path)) s.live_cpu = false;
  Override("ACCEL_HW_MEMINFO", s.meminfo_path);
  Override("ACCEL_HW_SYSFS_CPU", s.sysfs_cpu_dir);
  OverrideList("ACCEL_HW_CUDA_LIB", s.cuda_libs);
  OverrideList("ACCEL_HW_NVML_LIB", s.nvml_libs);
  OverrideList("ACCEL_HW_HIP_LIB", s.hip_libs);
  OverrideList("ACCEL_HW_OPENVINO_LIB", s.openvino_libs);
  OverrideList("ACCEL_HW_OPENCL_LIB", s.opencl_libs);
  OverrideList("ACCEL_HW_VULKAN_LIB", s.vulkan_libs);
  OverrideList("ACCEL_HW_BROWSER", s.browsers);
  Override("ACCEL_HW_NUMA_SYNTHETIC", s.numa_synthetic);
  return s;
}

}  // namespace accel::hw
