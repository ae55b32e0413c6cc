#pragma once
// The CPU as a user and the device selector need it: who made it, how many cores, which
// vector extensions, which caches. Parsing is separate from reading so fixture files of other
// machines (ARM with SVE, dual-socket Xeons) are tested here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "hw/hw_sources.h"

namespace accel::hw {

struct CacheInfo {
  int level = 0;
  std::string type;      // "Data", "Instruction", "Unified"
  int64_t size_bytes = 0;
  int shared_by_threads = 0;  // logical CPUs sharing one instance (0 = unknown)
};

struct CpuInfo {
  std::string vendor;       // "GenuineIntel", "AuthenticAMD", "ARM (0x41)", ...
  std::string model;        // brand string
  std::string arch;         // "x86_64" or "aarch64"
  int sockets = 0;
  int physical_cores = 0;
  int threads = 0;
  std::vector<std::string> isa;  // normalised names: "avx2", "avx512f", "amx_bf16", "neon", "sve"
  std::string isa_source;        // "cpuid" (live x86) or "cpuinfo"
  std::vector<CacheInfo> caches;

  bool Has(std::string_view ext) const;
};

// Parses /proc/cpuinfo text (x86 or ARM layout). Errors when it lists no processor at all.
Result<CpuInfo> ParseCpuInfo(std::string_view text, const std::string& label);

// Reads cpu0's caches from <sysfs_cpu_dir>/cpu0/cache/index*/; missing folders give none.
std::vector<CacheInfo> ReadCaches(const std::string& sysfs_cpu_dir);

// Parses a size such as "48K", "1024K", "32M" from sysfs (bytes; -1 if malformed).
int64_t ParseCacheSize(std::string_view text);

// cpuinfo + caches, with the ISA from CPUID when describing this process's own x86 CPU.
Result<CpuInfo> DetectCpu(const HwSources& sources);

}  // namespace accel::hw
