#include "hw/memory_info.h"

#include <map>

#include "core/mapped_file.h"

namespace accel::hw {

Result<MemoryInfo> ParseMeminfo(std::string_view text, const std::string& label) {
  std::map<std::string, int64_t> kib;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(line.substr(0, colon));
    std::string_view rest = line.substr(colon + 1);
    size_t i = 0;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    int64_t v = 0;
    int digits = 0;
    // Digits only: a sign or more than 15 digits (10^15 KiB) is not a real machine.
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && digits <= 15; ++i, ++digits)
      v = v * 10 + (rest[i] - '0');
    if (digits > 0 && digits <= 15) kib[key] = v;
  }
  if (!kib.count("MemTotal") || kib["MemTotal"] <= 0)
    return Corrupt(label + ": no usable 'MemTotal' line (not a /proc/meminfo file?)");
  MemoryInfo m;
  m.total_bytes = kib["MemTotal"] * 1024;
  if (kib.count("MemAvailable")) {
    m.available_bytes = kib["MemAvailable"] * 1024;
  } else {  // kernels before 3.14
    m.available_bytes = (kib["MemFree"] + kib["Cached"] + kib["Buffers"]) * 1024;
  }
  if (m.available_bytes > m.total_bytes) m.available_bytes = m.total_bytes;
  return m;
}

Result<MemoryInfo> DetectMemory(const HwSources& sources) {
  auto text = ReadFileToString(sources.meminfo_path);
  if (!text.ok()) return IoError(sources.meminfo_path + ": cannot read (" + text.status().message() + ")");
  return ParseMeminfo(*text, sources.meminfo_path);
}

}  // namespace accel::hw
