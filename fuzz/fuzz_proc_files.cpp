// /proc/cpuinfo, /proc/meminfo and sysfs cache-size parsing on arbitrary bytes: a hostile or
// truncated file is an error value, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hw/cpu_info.h"
#include "hw/memory_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cpu = accel::hw::ParseCpuInfo(text, "fuzz");
  if (cpu.ok() && cpu->threads <= 0) __builtin_trap();
  auto mem = accel::hw::ParseMeminfo(text, "fuzz");
  if (mem.ok() && (mem->total_bytes <= 0 || mem->available_bytes > mem->total_bytes)) __builtin_trap();
  (void)accel::hw::ParseCacheSize(text.substr(0, 32));
  return 0;
}
