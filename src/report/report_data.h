#pragma once
// What the HTML report shows, read from the benchmark database in one go.
#include <optional>
#include <string>
#include <vector>

#include "db/sql_connection.h"

namespace accel::report {

// The latest result of one point (whatever its status).
struct PointRow {
  std::string model, family, device, dtype, scenario, status, error, unit;
  bool synthetic = false;
  int batch = 1, seq_len = 0;
  std::optional<double> p50_ms, p90_ms, p99_ms, throughput, peak_rss_mib, load_ms, first_ms;
  std::optional<double> prefill_tps, decode_tps;  // generation: tokens/s of the prompt and of new tokens
  int64_t run_id = 0;
  // The same point's previous ok result (an earlier run), set only for points of the latest run.
  std::optional<double> prev_p50_ms, prev_throughput;
  std::string validation;  // "passed", "failed", "skipped" or "" (none recorded)
  std::string validation_detail;
};

struct RunRow {
  std::string uuid, started_at, machine, software_version, git_commit, suite, hardware_json;
  int64_t id = 0;
  bool interrupted = false;  // never finished: killed, crashed, or still running
};

struct ReportData {
  std::string database;
  std::vector<RunRow> runs;      // newest first
  std::vector<PointRow> points;  // latest per point, sorted by model, device, dtype, batch, seq, scenario
  int64_t latest_run_id = 0;     // the newest run with results (0: none)
};

Result<ReportData> LoadReportData(db::SqlConnection& conn);

}  // namespace accel::report
