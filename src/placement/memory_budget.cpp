#include "placement/memory_budget.h"

#include <cmath>
#include <cstdlib>

namespace accel {

Result<int64_t> ParseByteSize(std::string_view text) {
  std::string s(text);
  if (s.empty()) return InvalidArgument("memory size is empty");
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return InvalidArgument("memory size '" + s + "' does not start with a number");
  double value = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB") mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return InvalidArgument("memory size '" + s + "' has unknown unit '" + unit + "' (use K, M, G or T)");
  double bytes = value * mult;
  if (!(bytes >= 1) || bytes > 9e18) return InvalidArgument("memory size '" + s + "' is out of range");
  return static_cast<int64_t>(bytes);
}

Result<int64_t> ResolveMemoryLimit(const std::string& cli_value, const hw::MemoryInfo& memory) {
  if (!cli_value.empty()) {
    auto v = ParseByteSize(cli_value);
    if (!v.ok()) return v.status().WithContext("--memory-limit");
    return v;
  }
  if (const char* env = std::getenv("ACCEL_MEMORY_LIMIT"); env && *env) {
    auto v = ParseByteSize(env);
    if (!v.ok()) return v.status().WithContext("ACCEL_MEMORY_LIMIT");
    return v;
  }
  if (memory.available_bytes <= 0) return InvalidArgument("available memory unknown: set --memory-limit");
  return static_cast<int64_t>(static_cast<double>(memory.available_bytes) * 0.9);
}

bool ShouldUseLowMemoryMode(const hw::MemoryInfo& memory) {
  if (memory.total_bytes <= 0) return false;
  return memory.available_bytes < (2LL << 30) || memory.available_bytes * 10 < memory.total_bytes;
}

}  // namespace accel
