#include "hw/cpu_info.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/cpu_features.h"
#include "core/mapped_file.h"

namespace accel::hw {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Kernel flag names (x86 "flags", ARM "Features") -> the names this project uses.
const std::map<std::string, std::string>& FlagNames() {
  static const std::map<std::string, std::string> names = {
      {"sse4_2", "sse4.2"}, {"avx", "avx"}, {"avx2", "avx2"}, {"fma", "fma"}, {"f16c", "f16c"},
      {"avx512f", "avx512f"}, {"avx512bw", "avx512bw"}, {"avx512dq", "avx512dq"}, {"avx512vl", "avx512vl"},
      {"avx512_vnni", "avx512_vnni"}, {"avx512_bf16", "avx512_bf16"}, {"avx512_fp16", "avx512_fp16"},
      {"avx_vnni", "avx_vnni"}, {"amx_tile", "amx_tile"}, {"amx_bf16", "amx_bf16"}, {"amx_int8", "amx_int8"},
      {"asimd", "neon"}, {"asimddp", "dotprod"}, {"asimdhp", "fp16"}, {"i8mm", "i8mm"}, {"bf16", "bf16"},
      {"sve", "sve"}, {"sve2", "sve2"}, {"sme", "sme"},
  };
  return names;
}

std::vector<std::string> IsaFromFlags(std::string_view flags) {
  std::set<std::string> found;
  std::istringstream in{std::string(flags)};
  std::string flag;
  const auto& names = FlagNames();
  while (in >> flag) {
    auto it = names.find(flag);
    if (it != names.end()) found.insert(it->second);
  }
  // Keep the order of the table above (roughly oldest to newest), not alphabetical.
  std::vector<std::string> ordered;
  static const char* kOrder[] = {"sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq",
                                 "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
                                 "amx_bf16", "amx_int8", "neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2",
                                 "sme"};
  for (const char* n : kOrder)
    if (found.count(n)) ordered.push_back(n);
  return ordered;
}

std::vector<std::string> IsaFromCpuid(const CpuFeatures& f) {
  std::vector<std::string> isa;
  std::istringstream in(f.IsaString());
  std::string name;
  while (in >> name) isa.push_back(name);
  return isa;
}

int ToInt(std::string_view s, int fallback) {
  try {
    size_t used = 0;
    std::string str(s);
    int base = str.rfind("0x", 0) == 0 ? 16 : 10;
    long v = std::stol(str, &used, base);
    return used == str.size() && v >= 0 && v < (1 << 24) ? static_cast<int>(v) : fallback;
  } catch (...) {  // std::stol's exceptions stay inside this helper
    return fallback;
  }
}

}  // namespace

bool CpuInfo::Has(std::string_view ext) const {
  return std::find(isa.begin(), isa.end(), ext) != isa.end();
}

Result<CpuInfo> ParseCpuInfo(std::string_view text, const std::string& label) {
  CpuInfo info;
  int processors = 0;
  int current_physical = 0;
  std::set<std::pair<int, int>> cores;  // (physical id, core id)
  std::set<int> packages;
  bool have_core_ids = false;
  std::string flags, implementer;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (key == "processor") {
      // ARM's kernels also print a "Processor : AArch64 ..." line (capital P) with a name.
      ++processors;
    } else if (key == "Processor" && info.model.empty()) {
      info.model = value;
    } else if (key == "vendor_id") {
      info.vendor = value;
    } else if (key == "model name") {
      if (info.model.empty()) info.model = value;
    } else if (key == "physical id") {
      current_physical = ToInt(value, 0);
      packages.insert(current_physical);
    } else if (key == "core id") {
      have_core_ids = true;
      cores.insert({current_physical, ToInt(value, 0)});
    } else if (key == "flags" || key == "Features") {
      if (flags.empty()) flags = value;
      if (key == "Features") info.arch = "aarch64";
    } else if (key == "CPU implementer") {
      implementer = value;
    }
  }
  if (processors == 0) return Corrupt(label + ": lists no 'processor' entries (not a /proc/cpuinfo file?)");
  if (info.arch.empty()) info.arch = "x86_64";
  if (info.vendor.empty() && !implementer.empty()) {
    info.vendor = implementer == "0x41" ? "ARM" : implementer == "0x61" ? "Apple" : "implementer " + implementer;
  }
  if (info.model.empty()) info.model = info.arch + " processor";
  info.threads = processors;
  info.sockets = packages.empty() ? 1 : static_cast<int>(packages.size());
  info.physical_cores = have_core_ids ? static_cast<int>(cores.size()) : processors;
  info.isa = IsaFromFlags(flags);
  info.isa_source = "cpuinfo";
  return info;
}

int64_t ParseCacheSize(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return -1;
  int64_t mult = 1;
  char last = text.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (last == 'G' || last == 'g') mult = 1024LL * 1024 * 1024;
  if (mult != 1) text.remove_suffix(1);
  if (text.empty() || text.size() > 12) return -1;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v * mult;
}

namespace {
// "0-3,8-11" -> 8
int CountCpuList(std::string_view list) {
  int count = 0;
  std::string s(Trim(list));
  std::istringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    size_t dash = part.find('-');
    if (dash == std::string::npos) {
      if (ToInt(part, -1) >= 0) ++count;
    } else {
      int a = ToInt(part.substr(0, dash), -1), b = ToInt(part.substr(dash + 1), -1);
      if (a >= 0 && b >= a) count += b - a + 1;
    }
  }
  return count;
}
std::string ReadSmall(const std::filesystem::path& p) {
  auto text = ReadFileToString(p.string());
  return text.ok() ? std::string(Trim(*text)) : std::string();
}
}  // namespace

std::vector<CacheInfo> ReadCaches(const std::string& sysfs_cpu_dir) {
  namespace fs = std::filesystem;
  std::vector<CacheInfo> caches;
  std::error_code ec;
  fs::path dir = fs::path(sysfs_cpu_dir) / "cpu0" / "cache";
  for (int i = 0; i < 16; ++i) {
    fs::path index = dir / ("index" + std::to_string(i));
    if (!fs::is_directory(index, ec)) break;
    CacheInfo c;
    c.level = ToInt(ReadSmall(index / "level"), 0);
    c.type = ReadSmall(index / "type");
    c.size_bytes = ParseCacheSize(ReadSmall(index / "size"));
    c.shared_by_threads = CountCpuList(ReadSmall(index / "shared_cpu_list"));
    if (c.level > 0 && c.size_bytes > 0) caches.push_back(c);
  }
  return caches;
}

Result<CpuInfo> DetectCpu(const HwSources& sources) {
  auto text = ReadFileToString(sources.cpuinfo_path);
  if (!text.ok()) return IoError(sources.cpuinfo_path + ": cannot read (" + text.status().message() + ")");
  ACCEL_ASSIGN_OR_RETURN(CpuInfo info, ParseCpuInfo(*text, sources.cpuinfo_path));
  info.caches = ReadCaches(sources.sysfs_cpu_dir);
#if defined(__x86_64__)
  if (sources.live_cpu) {
    // CPUID also checks that the OS saves the wide registers (XCR0), which the kernel's flag
    // list does not; kernels dispatch on the same structure.
    const CpuFeatures& f = GetCpuFeatures();
    info.isa = IsaFromCpuid(f);
    info.isa_source = "cpuid";
    if (!f.brand.empty()) info.model = f.brand;
    if (!f.vendor.empty()) info.vendor = f.vendor;
  }
#endif
  return info;
}

}  // namespace accel::hw
