#pragma once
// System memory from /proc/meminfo: what exists and what a new model could still use.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "hw/hw_sources.h"

namespace accel::hw {

struct MemoryInfo {
  int64_t total_bytes = 0;
  int64_t available_bytes = 0;  // MemAvailable (the kernel's estimate), else MemFree + Cached
};

Result<MemoryInfo> ParseMeminfo(std::string_view text, const std::string& label);
Result<MemoryInfo> DetectMemory(const HwSources& sources);

}  // namespace accel::hw
