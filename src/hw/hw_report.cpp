#include "hw/hw_report.h"

#include <cstdio>

#include "hw/backend_probes.h"

namespace accel::hw {

using Json = nlohmann::json;

namespace {
BackendReport CpuBackend(const HwReport& r) {
  BackendReport b;
  b.name = "cpu";
  b.runtime = "accel CPU kernels";
  DeviceInfo d;
  d.name = r.cpu.model.empty() ? "cpu" : r.cpu.model;
  d.type = "cpu";
  d.memory_total_bytes = r.memory.total_bytes;
  d.memory_free_bytes = r.memory.total_bytes > 0 ? r.memory.available_bytes : -1;
  d.detail = std::to_string(r.cpu.physical_cores) + " cores, " + std::to_string(r.cpu.threads) + " threads";
  b.devices.push_back(d);
  b.hardware_found = true;  // this process runs on a CPU, whatever /proc says
  FinishReport(b, r.cpu_error.empty() ? "" : "cpu details unknown: " + r.cpu_error);
  return b;
}
}  // namespace

const BackendReport* HwReport::Backend(const std::string& name) const {
  for (const auto& b : backends)
    if (b.name == name) return &b;
  return nullptr;
}

HwReport DetectHardware(const HwSources& sources) {
  HwReport r;
  auto cpu = DetectCpu(sources);
  if (cpu.ok()) r.cpu = std::move(*cpu);
  else r.cpu_error = cpu.status().message();
  auto mem = DetectMemory(sources);
  if (mem.ok()) r.memory = *mem;
  else r.memory_error = mem.status().message();
  r.numa = DetectNuma(sources);
  r.backends.push_back(CpuBackend(r));
  r.backends.push_back(ProbeCuda(sources));
  r.backends.push_back(ProbeRocm(sources));
  r.backends.push_back(ProbeOpenVino(sources));
  r.backends.push_back(ProbeOpenCl(sources));
  r.backends.push_back(ProbeVulkan(sources));
  r.backends.push_back(ProbeMps());
  r.backends.push_back(ProbeBrowser(sources, "webgpu"));
  r.backends.push_back(ProbeBrowser(sources, "webnn"));
  return r;
}

Json ToJson(const HwReport& r) {
  Json cpu = {{"vendor", r.cpu.vendor}, {"model", r.cpu.model}, {"arch", r.cpu.arch},
              {"sockets", r.cpu.sockets}, {"physical_cores", r.cpu.physical_cores}, {"threads", r.cpu.threads},
              {"isa", r.cpu.isa}, {"isa_source", r.cpu.isa_source}, {"caches", Json::array()}};
  for (const auto& c : r.cpu.caches)
    cpu["caches"].push_back({{"level", c.level}, {"type", c.type}, {"size_bytes", c.size_bytes},
                             {"shared_by_threads", c.shared_by_threads}});
  if (!r.cpu_error.empty()) cpu["error"] = r.cpu_error;
  Json mem = {{"total_bytes", r.memory.total_bytes}, {"available_bytes", r.memory.available_bytes}};
  if (!r.memory_error.empty()) mem["error"] = r.memory_error;
  Json numa = {{"source", r.numa.source}, {"packages", r.numa.packages}, {"cores", r.numa.cores},
               {"threads", r.numa.threads}, {"nodes", Json::array()}};
  for (const auto& n : r.numa.nodes)
    numa["nodes"].push_back({{"index", n.index}, {"memory_bytes", n.memory_bytes}, {"cores", n.cores},
                             {"threads", n.threads}});
  Json backends = Json::array();
  for (const auto& b : r.backends) {
    Json devices = Json::array();
    for (const auto& d : b.devices)
      devices.push_back({{"name", d.name}, {"type", d.type}, {"memory_total_bytes", d.memory_total_bytes},
                         {"memory_free_bytes", d.memory_free_bytes}, {"compute_capability", d.compute_capability},
                         {"detail", d.detail}});
    backends.push_back({{"name", b.name}, {"available", b.available}, {"hardware_found", b.hardware_found},
                        {"engine_backend_built", b.engine_backend_built}, {"reason", b.reason},
                        {"runtime", b.runtime}, {"driver_version", b.driver_version}, {"devices", devices}});
  }
  return {{"cpu", cpu}, {"memory", mem}, {"numa", numa}, {"backends", backends}};
}

std::string ToText(const HwReport& r) {
  std::string s;
  auto line = [&](const std::string& l) { s += l + "\n"; };
  if (r.cpu_error.empty()) {
    line("cpu:     " + r.cpu.model + " (" + r.cpu.vendor + ", " + r.cpu.arch + "), " + std::to_string(r.cpu.sockets) +
         " socket(s), " + std::to_string(r.cpu.physical_cores) + " cores, " + std::to_string(r.cpu.threads) +
         " threads");
    std::string isa;
    for (const auto& e : r.cpu.isa) isa += (isa.empty() ? "" : " ") + e;
    line("isa:     " + (isa.empty() ? std::string("(baseline only)") : isa) + "  [from " + r.cpu.isa_source + "]");
    std::string caches;
    for (const auto& c : r.cpu.caches)
      caches += (caches.empty() ? "" : ", ") + std::string("L") + std::to_string(c.level) +
                (c.type == "Data" ? "d" : c.type == "Instruction" ? "i" : "") + " " + FormatBytes(c.size_bytes);
    if (!caches.empty()) line("caches:  " + caches);
  } else {
    line("cpu:     unknown (" + r.cpu_error + ")");
  }
  if (r.memory_error.empty())
    line("memory:  " + FormatBytes(r.memory.total_bytes) + " total, " + FormatBytes(r.memory.available_bytes) +
         " available");
  else
    line("memory:  unknown (" + r.memory_error + ")");
  std::string numa = "numa:    " + std::to_string(r.numa.nodes.size()) + " node(s)";
  for (const auto& n : r.numa.nodes)
    numa += ", node " + std::to_string(n.index) + ": " + std::to_string(n.cores) + " cores" +
            (n.memory_bytes > 0 ? " " + FormatBytes(n.memory_bytes) : "");
  line(numa + "  [" + r.numa.source + "]");
  line("backends:");
  for (const auto& b : r.backends) {
    char head[64];
    std::snprintf(head, sizeof(head), "  %-9s %-4s ", b.name.c_str(), b.available ? "yes" : "no");
    line(std::string(head) + "— " + b.reason);
    for (const auto& d : b.devices) {
      std::string dl = "              " + d.type + ": " + d.name;
      if (!d.compute_capability.empty()) dl += " [" + d.compute_capability + "]";
      if (d.memory_total_bytes > 0) dl += ", " + FormatBytes(d.memory_total_bytes);
      if (d.memory_free_bytes >= 0 && b.name != "cpu") dl += " (" + FormatBytes(d.memory_free_bytes) + " free)";
      if (!d.detail.empty()) dl += ", " + d.detail;
      line(dl);
    }
  }
  return s;
}

}  // namespace accel::hw
