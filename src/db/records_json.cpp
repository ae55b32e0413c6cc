#include "db/records_json.h"

#include <string_view>

#include <cctype>

#include <cmath>

namespace accel::db {
namespace {

using nlohmann::json;

void PutOpt(json& j, const char* key, const std::optional<double>& v) {
  if (v && std::isfinite(*v)) j[key] = *v;
}
void PutOpt(json& j, const char* key, const std::optional<int64_t>& v) {
  if (v) j[key] = *v;
}
void PutOpt(json& j, const char* key, const std::optional<int>& v) {
  if (v) j[key] = *v;
}

// Reads typed fields from one JSON object and remembers the first error, so that parsing
// code reads as a list of fields rather than a ladder of checks.
class FieldReader {
 public:
  FieldReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) Fail("", "expected an object");
  }
  const Status& status() const { return status_; }

  void Str(const char* key, std::string& out, bool required = false) {
    const json* v = Find(key, required);
    if (!v) return;
    if (!v->is_string()) return Fail(key, "expected a string");
    out = v->get<std::string>();
  }
  void Int(const char* key, int& out, bool required = false) {
    const json* v = Find(key, required);
    if (!v) return;
    if (!v->is_number_integer()) return Fail(key, "expected an integer");
    int64_t x = v->get<int64_t>();
    if (x < 0 || x > (1 << 30)) return Fail(key, "out of range");
    out = static_cast<int>(x);
  }
  void Bool(const char* key, bool& out) {
    const json* v = Find(key, false);
    if (!v) return;
    if (!v->is_boolean()) return Fail(key, "expected true or false");
    out = v->get<bool>();
  }
  void OptDouble(const char* key, std::optional<double>& out) {
    const json* v = Find(key, false);
    if (!v || v->is_null()) return;
    if (!v->is_number()) return Fail(key, "expected a number");
    double x = v->get<double>();
    if (!std::isfinite(x)) return Fail(key, "expected a finite number");
    out = x;
  }
  void OptInt(const char* key, std::optional<int>& out) {
    int x = 0;
    if (const json* v = Find(key, false); v && !v->is_null()) {
      Int(key, x);
      out = x;
    }
  }
  void OptInt64(const char* key, std::optional<int64_t>& out) {
    const json* v = Find(key, false);
    if (!v || v->is_null()) return;
    if (!v->is_number_integer()) return Fail(key, "expected an integer");
    out = v->get<int64_t>();
  }
  const json* Object(const char* key, bool required) {
    const json* v = Find(key, required);
    if (v && !v->is_object()) {
      Fail(key, "expected an object");
      return nullptr;
    }
    return v;
  }
  const json* Array(const char* key, bool required) {
    const json* v = Find(key, required);
    if (v && !v->is_array()) {
      Fail(key, "expected an array");
      return nullptr;
    }
    return v;
  }
  std::string Path(const std::string& key) const { return where_.empty() ? key : where_ + "." + key; }
  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) status_ = Corrupt((key.empty() ? where_ : Path(key)) + ": " + what);
  }

 private:
  const json* Find(const char* key, bool required) {
    if (!status_.ok() || !j_.is_object()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  const json& j_;
  std::string where_;
  Status status_;
};

Status CheckStatusValue(const std::string& status, const std::string& where) {
  for (const char* s : {kStatusOk, kStatusFailed, kStatusCrashed, kStatusTimeout, kStatusOom})
    if (status == s) return Status::Ok();
  return Corrupt(where + ".status: unknown status \"" + status + "\"");
}

}  // namespace

json ToJson(const ResultRecord& r) {
  json j;
  j["model"] = {{"name", r.model.name}, {"family", r.model.family}, {"task", r.model.task},
                {"source", r.model.source}, {"synthetic", r.model.synthetic}};
  PutOpt(j["model"], "params", r.model.params);
  j["device"] = {{"name", r.device.name}, {"kind", r.device.kind}, {"description", r.device.description}};
  j["dtype"] = r.dtype;
  j["batch_size"] = r.batch_size;
  j["seq_len"] = r.seq_len;
  j["scenario"] = r.scenario;
  j["status"] = r.status;
  if (!r.error.empty()) j["error"] = r.error;
  j["iterations"] = r.iterations;
  PutOpt(j, "load_ms", r.load_ms);
  PutOpt(j, "first_ms", r.first_ms);
  PutOpt(j, "latency_mean_ms", r.latency_mean_ms);
  PutOpt(j, "latency_min_ms", r.latency_min_ms);
  PutOpt(j, "latency_p50_ms", r.latency_p50_ms);
  PutOpt(j, "latency_p90_ms", r.latency_p90_ms);
  PutOpt(j, "latency_p99_ms", r.latency_p99_ms);
  PutOpt(j, "latency_max_ms", r.latency_max_ms);
  PutOpt(j, "latency_stddev_ms", r.latency_stddev_ms);
  PutOpt(j, "throughput", r.throughput);
  if (!r.throughput_unit.empty()) j["throughput_unit"] = r.throughput_unit;
  PutOpt(j, "prefill_tokens_per_s", r.prefill_tokens_per_s);
  PutOpt(j, "decode_tokens_per_s", r.decode_tokens_per_s);
  PutOpt(j, "prefill_tokens_per_s_sd", r.prefill_tokens_per_s_sd);
  PutOpt(j, "decode_tokens_per_s_sd", r.decode_tokens_per_s_sd);
  PutOpt(j, "ttft_ms", r.ttft_ms);
  PutOpt(j, "gen_tokens", r.gen_tokens);
  PutOpt(j, "threads", r.threads);
  PutOpt(j, "target_qps", r.target_qps);
  PutOpt(j, "peak_rss_bytes", r.peak_rss_bytes);
  PutOpt(j, "wall_s", r.wall_s);
  if (!r.created_at.empty()) j["created_at"] = r.created_at;
  j["validations"] = json::array();
  for (const auto& v : r.validations) {
    json jv = {{"kind", v.kind}, {"status", v.status}, {"reference", v.reference}, {"detail", v.detail}};
    PutOpt(jv, "max_abs_diff", v.max_abs_diff);
    j["validations"].push_back(std::move(jv));
  }
  return j;
}

json ToJson(const RunRecord& r) {
  json j = {{"uuid", r.uuid},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"machine", r.machine},
            {"hardware", r.hardware},
            {"software_version", r.software_version},
            {"git_commit", r.git_commit},
            {"suite", r.suite},
            {"command_line", r.command_line},
            {"results", json::array()}};
  for (const auto& res : r.results) j["results"].push_back(ToJson(res));
  return j;
}

json ExportDocument(const std::vector<RunRecord>& runs) {
  json doc = {{"format", kExportFormat}, {"version", kExportFormatVersion}, {"runs", json::array()}};
  for (const auto& r : runs) doc["runs"].push_back(ToJson(r));
  return doc;
}

namespace {

// "YYYY-MM-DDTHH:MM:SS" with an optional fraction and zone, fields in range.
bool IsIsoTimestamp(const std::string& t) {
  if (t.size() < 19 || t.size() > 40) return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
    if (t[i] < '0' || t[i] > '9') return false;
  if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || t[16] != ':') return false;
  auto num = [&](size_t at, size_t n) { return std::stoi(t.substr(at, n)); };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2), sec = num(17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60) return false;
  for (size_t i = 19; i < t.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(t[i])) && std::string_view(".:+-Z").find(t[i]) == std::string_view::npos) return false;
  return true;
}

Status CheckTimestamp(const std::string& t, const std::string& where, bool required) {
  if (t.empty() && !required) return Status::Ok();
  if (!IsIsoTimestamp(t)) return Corrupt(where + ": \"" + (t.size() > 40 ? t.substr(0, 40) + "..." : t) + "\" is not an ISO-8601 time");
  return Status::Ok();
}

// Impossible values are refused on import: negative or non-finite times, unknown scenarios.
Status CheckResultValues(const ResultRecord& r, const std::string& where) {
  if (r.scenario != "single-stream" && r.scenario != "offline" && r.scenario != "server")
    return Corrupt(where + ".scenario: unknown scenario \"" + r.scenario.substr(0, 40) + "\" (single-stream, offline or server)");
  if (r.seq_len < 0) return Corrupt(where + ".seq_len: must not be negative");
  if (r.iterations < 0) return Corrupt(where + ".iterations: must not be negative");
  if (r.peak_rss_bytes && *r.peak_rss_bytes < 0) return Corrupt(where + ".peak_rss_bytes: must not be negative");
  const std::pair<const char*, const std::optional<double>*> values[] = {
      {"load_ms", &r.load_ms}, {"first_ms", &r.first_ms}, {"latency_mean_ms", &r.latency_mean_ms},
      {"latency_min_ms", &r.latency_min_ms}, {"latency_p50_ms", &r.latency_p50_ms}, {"latency_p90_ms", &r.latency_p90_ms},
      {"latency_p99_ms", &r.latency_p99_ms}, {"latency_max_ms", &r.latency_max_ms},
      {"latency_stddev_ms", &r.latency_stddev_ms}, {"throughput", &r.throughput},
      {"prefill_tokens_per_s", &r.prefill_tokens_per_s}, {"decode_tokens_per_s", &r.decode_tokens_per_s},
      {"prefill_tokens_per_s_sd", &r.prefill_tokens_per_s_sd}, {"decode_tokens_per_s_sd", &r.decode_tokens_per_s_sd},
      {"ttft_ms", &r.ttft_ms}, {"target_qps", &r.target_qps}, {"wall_s", &r.wall_s}};
  for (const auto& [name, v] : values) {
    if (*v && (!std::isfinite(**v) || **v < 0)) return Corrupt(where + "." + name + ": must be a finite non-negative number");
  }
  return CheckTimestamp(r.created_at, where + ".created_at", false);
}

}  // namespace

Result<ResultRecord> ResultFromJson(const json& j, const std::string& where) {
  ResultRecord r;
  FieldReader f(j, where);
  if (const json* m = f.Object("model", true)) {
    FieldReader fm(*m, f.Path("model"));
    fm.Str("name", r.model.name, true);
    fm.Str("family", r.model.family);
    fm.Str("task", r.model.task);
    fm.Str("source", r.model.source);
    fm.Bool("synthetic", r.model.synthetic);
    fm.OptInt64("params", r.model.params);
    if (fm.status().ok() && r.model.name.empty()) fm.Fail("name", "empty");
    if (!fm.status().ok()) return fm.status();
  }
  if (const json* d = f.Object("device", true)) {
    FieldReader fd(*d, f.Path("device"));
    fd.Str("name", r.device.name, true);
    fd.Str("kind", r.device.kind);
    fd.Str("description", r.device.description);
    if (fd.status().ok() && r.device.name.empty()) fd.Fail("name", "empty");
    if (!fd.status().ok()) return fd.status();
  }
  f.Str("dtype", r.dtype, true);
  f.Int("batch_size", r.batch_size, true);
  f.Int("seq_len", r.seq_len);
  f.Str("scenario", r.scenario);
  f.Str("status", r.status, true);
  f.Str("error", r.error);
  f.Int("iterations", r.iterations);
  f.OptDouble("load_ms", r.load_ms);
  f.OptDouble("first_ms", r.first_ms);
  f.OptDouble("latency_mean_ms", r.latency_mean_ms);
  f.OptDouble("latency_min_ms", r.latency_min_ms);
  f.OptDouble("latency_p50_ms", r.latency_p50_ms);
  f.OptDouble("latency_p90_ms", r.latency_p90_ms);
  f.OptDouble("latency_p99_ms", r.latency_p99_ms);
  f.OptDouble("latency_max_ms", r.latency_max_ms);
  f.OptDouble("latency_stddev_ms", r.latency_stddev_ms);
  f.OptDouble("throughput", r.throughput);
  f.Str("throughput_unit", r.throughput_unit);
  f.OptDouble("prefill_tokens_per_s", r.prefill_tokens_per_s);
  f.OptDouble("decode_tokens_per_s", r.decode_tokens_per_s);
  f.OptDouble("prefill_tokens_per_s_sd", r.prefill_tokens_per_s_sd);
  f.OptDouble("decode_tokens_per_s_sd", r.decode_tokens_per_s_sd);
  f.OptDouble("ttft_ms", r.ttft_ms);
  f.OptInt("gen_tokens", r.gen_tokens);
  f.OptInt("threads", r.threads);
  f.OptDouble("target_qps", r.target_qps);
  f.OptInt64("peak_rss_bytes", r.peak_rss_bytes);
  f.OptDouble("wall_s", r.wall_s);
  f.Str("created_at", r.created_at);
  if (const json* vs = f.Array("validations", false)) {
    for (size_t i = 0; i < vs->size(); ++i) {
      ValidationRecord v;
      FieldReader fv((*vs)[i], f.Path("validations[" + std::to_string(i) + "]"));
      fv.Str("kind", v.kind, true);
      fv.Str("status", v.status, true);
      fv.OptDouble("max_abs_diff", v.max_abs_diff);
      fv.Str("reference", v.reference);
      fv.Str("detail", v.detail);
      if (!fv.status().ok()) return fv.status();
      r.validations.push_back(std::move(v));
    }
  }
  if (!f.status().ok()) return f.status();
  if (r.batch_size < 1) return Corrupt(where + ".batch_size: must be at least 1");
  ACCEL_RETURN_IF_ERROR(CheckStatusValue(r.status, where));
  return r;
}

Result<RunRecord> RunFromJson(const json& j, const std::string& where) {
  RunRecord r;
  FieldReader f(j, where);
  f.Str("uuid", r.uuid, true);
  f.Str("started_at", r.started_at, true);
  f.Str("finished_at", r.finished_at);
  f.Str("machine", r.machine, true);
  if (const json* hw = f.Object("hardware", false)) r.hardware = *hw;
  f.Str("software_version", r.software_version);
  f.Str("git_commit", r.git_commit);
  f.Str("suite", r.suite);
  f.Str("command_line", r.command_line);
  const json* results = f.Array("results", true);
  if (!f.status().ok()) return f.status();
  if (r.uuid.empty()) return Corrupt(f.Path("uuid") + ": empty");

  for (size_t i = 0; i < results->size(); ++i) {
    ACCEL_ASSIGN_OR_RETURN(ResultRecord res,
                           ResultFromJson((*results)[i], f.Path("results[" + std::to_string(i) + "]")));
    r.results.push_back(std::move(res));
  }
  return r;
}

Result<std::vector<RunRecord>> ParseExportDocument(const std::string& text, const std::string& source) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Corrupt(source + ": not valid JSON");
  if (!doc.is_object()) return Corrupt(source + ": expected a JSON object at the top level");
  auto fmt = doc.find("format");
  if (fmt == doc.end() || !fmt->is_string() || fmt->get<std::string>() != kExportFormat)
    return Corrupt(source + ": not an accel results file (\"format\" must be \"" + kExportFormat + "\")");
  auto ver = doc.find("version");
  if (ver == doc.end() || !ver->is_number_integer())
    return Corrupt(source + ": \"version\" missing or not an integer");
  if (ver->get<int64_t>() != kExportFormatVersion)
    return Unsupported(source + ": results format version " + ver->dump() + " is not supported (this accel reads " +
                       std::to_string(kExportFormatVersion) + ")");
  auto runs_it = doc.find("runs");
  if (runs_it == doc.end() || !runs_it->is_array()) return Corrupt(source + ": \"runs\" missing or not an array");
  std::vector<RunRecord> runs;
  for (size_t i = 0; i < runs_it->size(); ++i) {
    auto run = RunFromJson((*runs_it)[i], "runs[" + std::to_string(i) + "]");
    if (!run.ok()) return run.status().WithContext(source);
    // An import holds what anyone could write: impossible values are refused.
    const std::string where = "runs[" + std::to_string(i) + "]";
    Status st = CheckTimestamp(run->started_at, where + ".started_at", true);
    if (st.ok()) st = CheckTimestamp(run->finished_at, where + ".finished_at", false);
    for (size_t k = 0; st.ok() && k < run->results.size(); ++k)
      st = CheckResultValues(run->results[k], where + ".results[" + std::to_string(k) + "]");
    if (!st.ok()) return st.WithContext(source);
    runs.push_back(std::move(run).value());
  }
  return runs;
}

}  // namespace accel::db
