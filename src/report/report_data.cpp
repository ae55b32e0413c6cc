#include "report/report_data.h"

#include <algorithm>
#include <map>

namespace accel::report {
namespace {

std::string Text(const std::optional<std::string>& c) { return c.value_or(""); }

// Combines a result's validations: any failure wins, then any pass, else skipped.
void MergeValidation(PointRow& p, const std::string& status, const std::string& detail) {
  auto rank = [](const std::string& s) { return s == "failed" ? 3 : s == "passed" ? 2 : s == "skipped" ? 1 : 0; };
  if (rank(status) > rank(p.validation)) {
    p.validation = status;
    p.validation_detail = detail;
  }
}

std::string PointKey(const std::string& model, const std::string& device, const std::string& dtype, int64_t batch,
                     int64_t seq, const std::string& scenario) {
  return model + "|" + device + "|" + dtype + "|" + std::to_string(batch) + "|" + std::to_string(seq) + "|" + scenario;
}

// For each ok point of the latest run, the same point's newest ok result from an earlier run.
Status LoadPrevious(db::SqlConnection& conn, ReportData& data) {
  if (data.latest_run_id == 0) return Status::Ok();
  ACCEL_ASSIGN_OR_RETURN(
      db::SqlRows rows,
      conn.Query("SELECT m.name, d.name, r.dtype, r.batch_size, r.seq_len, r.scenario, r.latency_p50_ms, r.throughput "
                 "FROM results r JOIN models m ON m.id = r.model_id JOIN devices d ON d.id = r.device_id "
                 "WHERE r.id IN (SELECT MAX(id) FROM results WHERE status = 'ok' AND run_id < $1 "
                 "GROUP BY model_id, device_id, dtype, batch_size, seq_len, scenario)",
                 {db::SqlParam(data.latest_run_id)}));
  std::map<std::string, const db::SqlRow*> previous;
  for (const auto& r : rows.rows)
    previous[PointKey(Text(r[0]), Text(r[1]), Text(r[2]), db::CellInt(r[3]).value_or(1), db::CellInt(r[4]).value_or(0),
                      Text(r[5]))] = &r;
  for (auto& p : data.points) {
    if (p.run_id != data.latest_run_id || p.status != "ok") continue;
    auto it = previous.find(PointKey(p.model, p.device, p.dtype, p.batch, p.seq_len, p.scenario));
    if (it == previous.end()) continue;
    p.prev_p50_ms = db::CellDouble((*it->second)[6]);
    p.prev_throughput = db::CellDouble((*it->second)[7]);
  }
  return Status::Ok();
}

}  // namespace

Result<ReportData> LoadReportData(db::SqlConnection& conn) {
  ReportData data;
  data.database = conn.description();
  ACCEL_ASSIGN_OR_RETURN(db::SqlRows runs,
                         conn.Query("SELECT uuid, started_at, machine, software_version, git_commit, suite, "
                                    "hardware_json, finished_at, id FROM runs ORDER BY id DESC",
                                    {}));
  for (const auto& r : runs.rows) {
    data.runs.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Text(r[4]), Text(r[5]), Text(r[6])});
    data.runs.back().interrupted = Text(r[7]).empty();
    data.runs.back().id = db::CellInt(r[8]).value_or(0);
  }

  ACCEL_ASSIGN_OR_RETURN(
      db::SqlRows rows,
      conn.Query("SELECT r.id, m.name, m.family, m.synthetic, d.name, r.dtype, r.batch_size, r.seq_len, r.scenario, "
                 "r.status, r.error, r.throughput_unit, r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms, "
                 "r.throughput, r.peak_rss_bytes, r.load_ms, r.first_ms, r.prefill_tokens_per_s, r.decode_tokens_per_s, "
                 "r.run_id FROM results r JOIN models m ON m.id = r.model_id JOIN devices d ON d.id = r.device_id "
                 "WHERE r.id IN (SELECT MAX(id) FROM results "
                 "GROUP BY model_id, device_id, dtype, batch_size, seq_len, scenario) "
                 "ORDER BY m.name, d.name, r.dtype, r.batch_size, r.seq_len, r.scenario",
                 {}));
  std::map<int64_t, size_t> index;
  for (const auto& r : rows.rows) {
    PointRow p;
    p.model = Text(r[1]);
    p.family = Text(r[2]);
    p.synthetic = db::CellInt(r[3]).value_or(0) != 0;
    p.device = Text(r[4]);
    p.dtype = Text(r[5]);
    p.batch = static_cast<int>(db::CellInt(r[6]).value_or(1));
    p.seq_len = static_cast<int>(db::CellInt(r[7]).value_or(0));
    p.scenario = Text(r[8]);
    p.status = Text(r[9]);
    p.error = Text(r[10]);
    p.unit = Text(r[11]);
    p.p50_ms = db::CellDouble(r[12]);
    p.p90_ms = db::CellDouble(r[13]);
    p.p99_ms = db::CellDouble(r[14]);
    p.throughput = db::CellDouble(r[15]);
    if (auto rss = db::CellDouble(r[16])) p.peak_rss_mib = *rss / (1024.0 * 1024.0);
    p.load_ms = db::CellDouble(r[17]);
    p.first_ms = db::CellDouble(r[18]);
    p.prefill_tps = db::CellDouble(r[19]);
    p.decode_tps = db::CellDouble(r[20]);
    p.run_id = db::CellInt(r[21]).value_or(0);
    data.latest_run_id = std::max(data.latest_run_id, p.run_id);
    index[db::CellInt(r[0]).value_or(-1)] = data.points.size();
    data.points.push_back(std::move(p));
  }

  // Validations of those results only (latest points), joined in memory.
  ACCEL_ASSIGN_OR_RETURN(
      db::SqlRows vals,
      conn.Query("SELECT v.result_id, v.kind, v.status, v.detail, v.reference FROM validations v WHERE v.result_id IN "
                 "(SELECT MAX(id) FROM results GROUP BY model_id, device_id, dtype, batch_size, seq_len, scenario)",
                 {}));
  for (const auto& v : vals.rows) {
    auto it = index.find(db::CellInt(v[0]).value_or(-1));
    // The server scenario's latency bound is a performance target, not correctness.
    if (it == index.end() || Text(v[1]) == "latency-bound") continue;
    MergeValidation(data.points[it->second], Text(v[2]), Text(v[1]) + ": " + Text(v[3]));
  }
  ACCEL_RETURN_IF_ERROR(LoadPrevious(conn, data));
  return data;
}

}  // namespace accel::report
