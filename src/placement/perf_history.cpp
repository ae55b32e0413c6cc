#include "placement/perf_history.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"

namespace accel {

std::vector<PerfSample> InMemoryPerfHistory::Samples(const std::string& backend, const std::string& dtype) const {
  std::vector<PerfSample> out;
  for (const auto& s : samples_)
    if (s.backend == backend && s.dtype == dtype) out.push_back(s);
  return out;
}

Result<std::unique_ptr<InMemoryPerfHistory>> InMemoryPerfHistory::LoadJsonLines(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto history = std::make_unique<InMemoryPerfHistory>();
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(n);
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Corrupt(where + ": not a JSON object");
    PerfSample s;
    auto str = [&](const char* k, std::string& v) -> Status {
      if (!j.contains(k)) return Status::Ok();
      if (!j[k].is_string()) return Corrupt(where + ": '" + k + "' must be a string");
      v = j[k].get<std::string>();
      return Status::Ok();
    };
    auto num = [&](const char* k, double& v, bool required) -> Status {
      if (!j.contains(k)) return required ? Corrupt(where + ": missing '" + k + "'") : Status::Ok();
      if (!j[k].is_number() || !(j[k].get<double>() >= 0)) return Corrupt(where + ": '" + k + "' must be a number >= 0");
      v = j[k].get<double>();
      return Status::Ok();
    };
    ACCEL_RETURN_IF_ERROR(str("model", s.model));
    ACCEL_RETURN_IF_ERROR(str("family", s.family));
    ACCEL_RETURN_IF_ERROR(str("backend", s.backend));
    ACCEL_RETURN_IF_ERROR(str("device", s.device));
    ACCEL_RETURN_IF_ERROR(str("dtype", s.dtype));
    double batch = 1, seq = 1;
    ACCEL_RETURN_IF_ERROR(num("batch", batch, false));
    ACCEL_RETURN_IF_ERROR(num("seq", seq, false));
    ACCEL_RETURN_IF_ERROR(num("flops", s.flops, true));
    ACCEL_RETURN_IF_ERROR(num("bytes", s.bytes, false));
    ACCEL_RETURN_IF_ERROR(num("latency_ms", s.latency_ms, true));
    if (s.backend.empty() || s.dtype.empty()) return Corrupt(where + ": needs 'backend' and 'dtype'");
    s.batch = static_cast<int64_t>(batch);
    s.seq = static_cast<int64_t>(seq);
    history->Add(std::move(s));
  }
  return history;
}

}  // namespace accel
