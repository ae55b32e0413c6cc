#include "bench/machine_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::bench {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "unknown";
  return buf;
}

nlohmann::json HardwareSnapshot() {
  const CpuFeatures& f = GetCpuFeatures();
  nlohmann::json hw = {{"cpu", {{"vendor", f.vendor}, {"brand", f.brand}, {"isa", f.IsaString()},
                                {"threads", ThreadPool::DetectedThreads()}}}};
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long kb;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemTotal:") hw["memory_bytes"] = kb * 1024;
  utsname u{};
  if (uname(&u) == 0) hw["os"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  return hw;
}

std::string NewRunUuid() {
  std::random_device rd;
  std::mt19937_64 rng((uint64_t(rd()) << 32) ^ rd());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;           // version 4
  lo = (lo & ~(3ull << 62)) | (2ull << 62);       // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
                (unsigned long long)((hi >> 16) & 0xFFFF), (unsigned long long)(hi & 0xFFFF),
                (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace accel::bench
