#include "db/queries.h"

#include "db/migrations.h"

namespace accel::db {
namespace {

// The latest successful result of every distinct point, with the filters applied ('' = any).
const char* kLatestPoints = R"SQL(
SELECT m.name, m.family, m.synthetic, d.name, d.machine, r.dtype, r.batch_size, r.seq_len, r.scenario,
       r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms, r.latency_mean_ms,
       r.throughput, r.throughput_unit, r.peak_rss_bytes, r.load_ms, r.first_ms, ru.started_at,
       r.prefill_tokens_per_s, r.decode_tokens_per_s
FROM results r
JOIN models m ON m.id = r.model_id
JOIN devices d ON d.id = r.device_id
JOIN runs ru ON ru.id = r.run_id
WHERE r.id IN (SELECT MAX(id) FROM results WHERE status = 'ok'
               GROUP BY model_id, device_id, dtype, batch_size, seq_len, scenario)
  AND ($1 = '' OR m.family = $1)
  AND ($2 = '' OR d.name = $2 OR d.kind = $2)
  AND ($3 = '' OR m.name = $3)
)SQL";

enum Col { kModel, kFamily, kSynthetic, kDevice, kMachine, kDtype, kBatch, kSeq, kScenario, kP50, kP90, kP99, kMean,
           kThroughput, kUnit, kRss, kLoad, kFirst, kRunAt, kPrefill, kDecode };

std::optional<std::string> Num(const std::optional<std::string>& cell) {
  auto v = CellDouble(cell);
  if (!v) return std::nullopt;
  return FormatNumber(*v);
}

std::optional<std::string> Mib(const std::optional<std::string>& cell) {
  auto v = CellDouble(cell);
  if (!v) return std::nullopt;
  return FormatNumber(*v / (1024.0 * 1024.0));
}

// The ORDER BY that puts the best first for the chosen metric.
std::string MetricOrder(Metric metric) {
  switch (metric) {
    case Metric::kLatency: return "r.latency_p50_ms ASC";
    case Metric::kThroughput: return "r.throughput DESC";
    case Metric::kMemory: return "r.peak_rss_bytes ASC";
  }
  return "r.id";
}

void AddMetricColumns(Table& t, Metric metric) {
  switch (metric) {
    case Metric::kLatency:
      t.columns.insert(t.columns.end(), {"p50_ms", "p90_ms", "p99_ms", "mean_ms"});
      break;
    case Metric::kThroughput:
      t.columns.insert(t.columns.end(), {"throughput", "unit", "prefill_tok_s", "decode_tok_s"});
      break;
    case Metric::kMemory:
      t.columns.insert(t.columns.end(), {"peak_rss_mib", "load_ms"});
      break;
  }
}

void AddMetricCells(std::vector<std::optional<std::string>>& out, const SqlRow& row, Metric metric) {
  switch (metric) {
    case Metric::kLatency:
      for (int c : {kP50, kP90, kP99, kMean}) out.push_back(Num(row[c]));
      break;
    case Metric::kThroughput:
      out.push_back(Num(row[kThroughput]));
      out.push_back(row[kUnit]);
      out.push_back(Num(row[kPrefill]));
      out.push_back(Num(row[kDecode]));
      break;
    case Metric::kMemory:
      out.push_back(Mib(row[kRss]));
      out.push_back(Num(row[kLoad]));
      break;
  }
}

Result<SqlRows> LatestPoints(SqlConnection& conn, const QueryFilter& f, const std::string& order) {
  return conn.Query(std::string(kLatestPoints) + " ORDER BY " + order,
                    {SqlParam{f.family}, SqlParam{f.hardware}, SqlParam{f.model}});
}

std::optional<std::string> Synthetic(const SqlRow& row) {
  return CellInt(row[kSynthetic]).value_or(0) ? "yes" : "no";
}

}  // namespace

Result<Metric> ParseMetric(const std::string& name) {
  if (name == "latency") return Metric::kLatency;
  if (name == "throughput") return Metric::kThroughput;
  if (name == "memory") return Metric::kMemory;
  return InvalidArgument("unknown metric \"" + name + "\" (expected latency, throughput or memory)");
}

Result<Table> QueryPerformance(SqlConnection& conn, const QueryFilter& f) {
  ACCEL_ASSIGN_OR_RETURN(SqlRows rows,
                         LatestPoints(conn, f, "m.family, m.name, d.name, r.dtype, r.batch_size, r.seq_len, r.scenario"));
  Table t;
  t.columns = {"family", "model", "synthetic", "device", "dtype", "batch", "seq", "scenario"};
  AddMetricColumns(t, f.metric);
  t.columns.push_back("measured_at");
  for (const auto& row : rows.rows) {
    std::vector<std::optional<std::string>> out = {row[kFamily], row[kModel], Synthetic(row), row[kDevice],
                                                   row[kDtype],  row[kBatch], row[kSeq],      row[kScenario]};
    AddMetricCells(out, row, f.metric);
    out.push_back(row[kRunAt]);
    t.rows.push_back(std::move(out));
  }
  return t;
}

Result<Table> QueryHardware(SqlConnection& conn, const QueryFilter& f) {
  if (f.model.empty()) return InvalidArgument("query hardware: --model is required (which model to compare devices for)");
  ACCEL_ASSIGN_OR_RETURN(SqlRows rows,
                         LatestPoints(conn, f, "r.dtype, r.batch_size, r.seq_len, r.scenario, " + MetricOrder(f.metric)));
  Table t;
  t.columns = {"device", "machine", "dtype", "batch", "seq", "scenario"};
  AddMetricColumns(t, f.metric);
  for (const auto& row : rows.rows) {
    std::vector<std::optional<std::string>> out = {row[kDevice], row[kMachine], row[kDtype],
                                                   row[kBatch],  row[kSeq],     row[kScenario]};
    AddMetricCells(out, row, f.metric);
    t.rows.push_back(std::move(out));
  }
  return t;
}

Result<Table> QueryModels(SqlConnection& conn, const QueryFilter& f) {
  ACCEL_ASSIGN_OR_RETURN(SqlRows rows, LatestPoints(conn, f,
                                                    "d.name, r.dtype, r.batch_size, r.seq_len, r.scenario, " +
                                                        MetricOrder(f.metric) + ", m.name"));
  Table t;
  t.columns = {"device", "model", "family", "synthetic", "dtype", "batch", "seq", "scenario"};
  AddMetricColumns(t, f.metric);
  for (const auto& row : rows.rows) {
    std::vector<std::optional<std::string>> out = {row[kDevice], row[kModel], row[kFamily], Synthetic(row),
                                                   row[kDtype],  row[kBatch], row[kSeq],    row[kScenario]};
    AddMetricCells(out, row, f.metric);
    t.rows.push_back(std::move(out));
  }
  return t;
}

Result<Table> QueryBatch(SqlConnection& conn, const QueryFilter& f) {
  if (f.model.empty()) return InvalidArgument("query batch: --model is required (whose batch scaling to show)");
  ACCEL_ASSIGN_OR_RETURN(SqlRows rows, LatestPoints(conn, f, "d.name, r.dtype, r.seq_len, r.scenario, r.batch_size"));
  Table t;
  t.columns = {"device", "dtype", "seq", "scenario", "batch", "p50_ms", "ms_per_item", "throughput", "unit",
               "speedup_vs_smallest_batch"};
  std::string group;
  double base_throughput = 0;
  for (const auto& row : rows.rows) {
    std::string key = row[kDevice].value_or("") + "|" + row[kDtype].value_or("") + "|" + row[kSeq].value_or("") + "|" +
                      row[kScenario].value_or("");
    auto thr = CellDouble(row[kThroughput]);
    if (key != group) {
      group = key;
      base_throughput = thr.value_or(0);
    }
    auto p50 = CellDouble(row[kP50]);
    auto batch = CellDouble(row[kBatch]);
    std::optional<std::string> per_item, speedup;
    if (p50 && batch && *batch > 0) per_item = FormatNumber(*p50 / *batch);
    if (thr && base_throughput > 0) speedup = FormatNumber(*thr / base_throughput);
    t.rows.push_back({row[kDevice], row[kDtype], row[kSeq], row[kScenario], row[kBatch], Num(row[kP50]), per_item,
                      Num(row[kThroughput]), row[kUnit], speedup});
  }
  return t;
}

Result<Table> QueryStats(SqlConnection& conn) {
  Table t;
  t.columns = {"statistic", "value"};
  auto scalar = [&](const std::string& label, const std::string& sql) -> Status {
    ACCEL_ASSIGN_OR_RETURN(SqlRows rows, conn.Query(sql, {}));
    t.rows.push_back({label, rows.rows.empty() ? std::nullopt : rows.rows[0][0]});
    return Status::Ok();
  };
  t.rows.push_back({"database", conn.description()});
  t.rows.push_back({"backend", conn.dialect() == SqlDialect::kSqlite ? "sqlite" : "postgresql"});
  ACCEL_RETURN_IF_ERROR(scalar("schema_version", "SELECT MAX(version) FROM schema_version"));
  ACCEL_RETURN_IF_ERROR(scalar("runs", "SELECT COUNT(*) FROM runs"));
  // A run that never recorded its end was killed (kill -9, a crash, power) or is still going.
  ACCEL_RETURN_IF_ERROR(scalar("runs_interrupted", "SELECT COUNT(*) FROM runs WHERE finished_at IS NULL"));
  ACCEL_RETURN_IF_ERROR(scalar("models", "SELECT COUNT(*) FROM models"));
  ACCEL_RETURN_IF_ERROR(scalar("synthetic_models", "SELECT COUNT(*) FROM models WHERE synthetic <> 0"));
  ACCEL_RETURN_IF_ERROR(scalar("devices", "SELECT COUNT(*) FROM devices"));
  ACCEL_RETURN_IF_ERROR(scalar("results", "SELECT COUNT(*) FROM results"));
  ACCEL_RETURN_IF_ERROR(scalar("results_ok", "SELECT COUNT(*) FROM results WHERE status = 'ok'"));
  ACCEL_RETURN_IF_ERROR(scalar("results_failed", "SELECT COUNT(*) FROM results WHERE status <> 'ok'"));
  ACCEL_RETURN_IF_ERROR(scalar("validations", "SELECT COUNT(*) FROM validations"));
  ACCEL_RETURN_IF_ERROR(scalar("validations_failed", "SELECT COUNT(*) FROM validations WHERE status = 'failed'"));
  ACCEL_RETURN_IF_ERROR(scalar("first_run", "SELECT MIN(started_at) FROM runs"));
  ACCEL_RETURN_IF_ERROR(scalar("last_run", "SELECT MAX(started_at) FROM runs"));
  return t;
}

Result<Table> RunQuery(SqlConnection& conn, const std::string& question, const QueryFilter& f) {
  if (question == "performance") return QueryPerformance(conn, f);
  if (question == "hardware") return QueryHardware(conn, f);
  if (question == "models") return QueryModels(conn, f);
  if (question == "batch") return QueryBatch(conn, f);
  if (question == "stats") return QueryStats(conn);
  return InvalidArgument("unknown question \"" + question + "\" (expected performance, hardware, models, batch or stats)");
}

}  // namespace accel::db
