#pragma once
// Everything `accel hw` shows: CPU, memory, NUMA and every backend, as a struct the device
// selector reads and as text/JSON for people and scripts.
#include <string>

#include "core/units.h"
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/backend_report.h"
#include "hw/cpu_info.h"
#include "hw/hw_sources.h"
#include "hw/memory_info.h"
#include "hw/numa_topology.h"

namespace accel::hw {

struct HwReport {
  CpuInfo cpu;
  std::string cpu_error;  // non-empty when /proc/cpuinfo could not be read or parsed
  MemoryInfo memory;
  std::string memory_error;
  NumaTopology numa;
  std::vector<BackendReport> backends;  // cpu first, then accelerators

  const BackendReport* Backend(const std::string& name) const;
};

// Never fails as a whole: a source that cannot be read is reported in its *_error field or
// its backend's reason, and the rest is still detected.
HwReport DetectHardware(const HwSources& sources);

nlohmann::json ToJson(const HwReport& report);
std::string ToText(const HwReport& report);
using accel::FormatBytes;  // core/units.h

}  // namespace accel::hw
