#include "report/report_summary.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "db/table.h"

namespace accel::report {
namespace {

using Json = nlohmann::json;

std::string JsonText(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

std::string GiB(double bytes) { return db::FormatNumber(bytes / (1024.0 * 1024.0 * 1024.0)) + " GiB"; }

// GPUs as the snapshot may hold them: a list of names or of objects with name and memory.
std::string GpuText(const Json& hw) {
  const Json* gpus = nullptr;
  for (const char* key : {"gpus", "gpu", "accelerators"})
    if (hw.contains(key)) gpus = &hw[key];
  if (!gpus) return "none recorded";
  if (!gpus->is_array()) return JsonText(*gpus);
  std::string out;
  for (const auto& g : *gpus) {
    std::string one = g.is_object() ? JsonText(g.value("name", Json(""))) : JsonText(g);
    if (g.is_object() && g.contains("memory_total_bytes") && g["memory_total_bytes"].is_number())
      one += " (" + GiB(g["memory_total_bytes"].get<double>()) + ")";
    out += (out.empty() ? "" : ", ") + one;
  }
  return out.empty() ? "none" : out;
}

bool Better(const std::optional<double>& candidate, const std::optional<double>& best, bool higher) {
  return candidate && (!best || (higher ? *candidate > *best : *candidate < *best));
}

// Throughput, else the inverse of latency: "higher is faster" for the speed-up.
std::optional<double> Speed(const Headline& h) {
  if (h.best_throughput && *h.best_throughput > 0) return h.best_throughput;
  if (h.best_p50_ms && *h.best_p50_ms > 0) return 1000.0 / *h.best_p50_ms;
  return std::nullopt;
}

void FillSpeedups(std::vector<Headline>& rows) {
  std::map<std::string, std::pair<double, std::string>> base;  // model -> speed, label
  for (const auto& h : rows) {
    auto s = Speed(h);
    if (!s) continue;
    bool reference = h.device == "cpu" && h.dtype == "f32";
    auto it = base.find(h.model);
    bool has_reference = it != base.end() && it->second.second == "cpu f32";
    if (it == base.end() || reference || (!has_reference && *s < it->second.first))
      base[h.model] = {*s, h.device + " " + h.dtype};
  }
  for (auto& h : rows) {
    auto s = Speed(h);
    auto it = base.find(h.model);
    if (!s || it == base.end() || it->second.first <= 0) continue;
    h.speedup = *s / it->second.first;
    h.baseline = it->second.second;
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> MachineRows(const RunRow& run) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.push_back({"machine", run.machine});
  Json hw = Json::parse(run.hardware_json, nullptr, /*allow_exceptions=*/false);
  if (hw.is_object()) {
    Json cpu = hw.value("cpu", Json::object());
    if (cpu.is_object()) {
      rows.push_back({"CPU", JsonText(cpu.value("brand", Json(""))) + (cpu.contains("vendor") ? " (" + JsonText(cpu["vendor"]) + ")" : "")});
      if (cpu.contains("threads")) rows.push_back({"cores (threads)", JsonText(cpu["threads"])});
      if (cpu.contains("isa")) rows.push_back({"ISA", JsonText(cpu["isa"])});
    }
    if (hw.contains("memory_bytes") && hw["memory_bytes"].is_number())
      rows.push_back({"memory", GiB(hw["memory_bytes"].get<double>())});
    rows.push_back({"GPUs", GpuText(hw)});
    if (hw.contains("os")) rows.push_back({"OS", JsonText(hw["os"])});
  } else if (!run.hardware_json.empty()) {
    rows.push_back({"hardware", run.hardware_json});
  }
  rows.push_back({"accel version", run.software_version});
  rows.push_back({"commit", run.git_commit});
  rows.push_back({"date", run.started_at});
  rows.push_back({"suite", run.suite});
  return rows;
}

std::vector<Headline> Headlines(const std::vector<PointRow>& points) {
  std::map<std::tuple<std::string, std::string, std::string>, Headline> by_key;
  for (const auto& p : points) {
    if (p.status != "ok") continue;
    Headline& h = by_key[{p.model, p.device, p.dtype}];
    h.model = p.model;
    h.family = p.family;
    h.device = p.device;
    h.dtype = p.dtype;
    if (Better(p.throughput, h.best_throughput, true)) {
      h.best_throughput = p.throughput;
      h.unit = p.unit;
    }
    if (Better(p.p50_ms, h.best_p50_ms, false)) h.best_p50_ms = p.p50_ms;
    if (Better(p.prefill_tps, h.prefill_tps, true)) h.prefill_tps = p.prefill_tps;
    if (Better(p.decode_tps, h.decode_tps, true)) h.decode_tps = p.decode_tps;
  }
  std::vector<Headline> rows;
  for (auto& [key, h] : by_key) rows.push_back(std::move(h));
  FillSpeedups(rows);
  return rows;
}

Change CompareToPrevious(const PointRow& p, double threshold) {
  Change c;
  if (p.p50_ms && p.prev_p50_ms && *p.p50_ms > 0 && *p.prev_p50_ms > 0)
    c.ratio = *p.p50_ms / *p.prev_p50_ms;
  else if (p.throughput && p.prev_throughput && *p.throughput > 0 && *p.prev_throughput > 0)
    c.ratio = *p.prev_throughput / *p.throughput;
  else
    return c;
  c.trend = c.ratio > 1 + threshold ? Trend::kSlower : c.ratio < 1 / (1 + threshold) ? Trend::kFaster : Trend::kSame;
  return c;
}

}  // namespace accel::report
