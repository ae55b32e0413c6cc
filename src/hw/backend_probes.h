#pragma once
// One probe per vendor runtime. Each loads its library with dlopen (nothing is linked at build
// time), asks for devices, and returns a report; a missing or broken library is a report with
// the reason, never an error or a crash.
#include "hw/backend_report.h"
#include "hw/hw_sources.h"

namespace accel::hw {

BackendReport ProbeCuda(const HwSources& sources);      // driver API + NVML
BackendReport ProbeRocm(const HwSources& sources);      // HIP runtime
BackendReport ProbeOpenVino(const HwSources& sources);  // OpenVINO C API
BackendReport ProbeOpenCl(const HwSources& sources);    // ICD loader
BackendReport ProbeVulkan(const HwSources& sources);    // Vulkan loader
BackendReport ProbeMps();                               // Apple Metal (macOS only)
// WebGPU / WebNN run in a browser: report whether a Chromium that can host them is installed.
BackendReport ProbeBrowser(const HwSources& sources, const char* api);

}  // namespace accel::hw
