#include "db/bench_store.h"

#include <cstdlib>
#include <ctime>
#include <map>

#include "db/migrations.h"

namespace accel::db {
namespace {

SqlParam Opt(const std::optional<double>& v) { return v ? SqlParam{*v} : SqlParam{nullptr}; }
SqlParam Opt(const std::optional<int64_t>& v) { return v ? SqlParam{*v} : SqlParam{nullptr}; }
SqlParam Opt(const std::optional<int>& v) { return v ? SqlParam{int64_t{*v}} : SqlParam{nullptr}; }
SqlParam Text(const std::string& s) { return SqlParam{s}; }

Result<int64_t> ReturnedId(const SqlRows& rows, const char* what) {
  if (rows.rows.empty() || !CellInt(rows.rows[0][0])) return Internal(std::string("no id returned for ") + what);
  return *CellInt(rows.rows[0][0]);
}

std::string CellText(const std::optional<std::string>& c) { return c.value_or(""); }

}  // namespace

std::string DefaultDatabaseTarget() {
  const char* env = std::getenv("ACCEL_DB");
  return env && *env ? env : "./accel.db";
}

Result<std::unique_ptr<BenchStore>> BenchStore::Open(const std::string& target) {
  ACCEL_ASSIGN_OR_RETURN(auto conn, OpenSqlConnection(target));
  ACCEL_RETURN_IF_ERROR(MigrateToLatest(*conn));
  return std::unique_ptr<BenchStore>(new BenchStore(std::move(conn)));
}

template <typename Fn>
Status BenchStore::InTransaction(Fn&& fn) {
  ACCEL_RETURN_IF_ERROR(conn_->BeginWrite());
  Status st = fn();
  if (!st.ok()) {
    (void)conn_->Rollback();
    return st;
  }
  st = conn_->Commit();
  if (!st.ok()) (void)conn_->Rollback();
  return st;
}

Result<int64_t> BenchStore::InsertRunRow(const RunRecord& run) {
  ACCEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      conn_->Query("INSERT INTO runs (uuid, started_at, finished_at, machine, hardware_json, software_version, "
                   "git_commit, suite, command_line) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                   {Text(run.uuid), Text(run.started_at), run.finished_at.empty() ? SqlParam{nullptr} : Text(run.finished_at),
                    Text(run.machine), Text(run.hardware.dump()), Text(run.software_version), Text(run.git_commit),
                    Text(run.suite), Text(run.command_line)}));
  return ReturnedId(rows, "run");
}

Result<int64_t> BenchStore::BeginRun(const RunRecord& run) {
  int64_t id = 0;
  ACCEL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    ACCEL_ASSIGN_OR_RETURN(id, InsertRunRow(run));
    return Status::Ok();
  }));
  return id;
}

Result<int64_t> BenchStore::UpsertModel(const ModelRecord& m) {
  ACCEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      conn_->Query("INSERT INTO models (name, family, task, source, synthetic, params) VALUES ($1, $2, $3, $4, $5, $6) "
                   "ON CONFLICT (name) DO UPDATE SET family = excluded.family, task = excluded.task, "
                   "source = excluded.source, synthetic = excluded.synthetic, params = excluded.params RETURNING id",
                   {Text(m.name), Text(m.family), Text(m.task), Text(m.source), int64_t{m.synthetic ? 1 : 0},
                    Opt(m.params)}));
  return ReturnedId(rows, "model");
}

Result<int64_t> BenchStore::UpsertDevice(const DeviceRecord& d, const std::string& machine) {
  ACCEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      conn_->Query("INSERT INTO devices (name, machine, kind, description) VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (name, machine) DO UPDATE SET kind = excluded.kind, "
                   "description = excluded.description RETURNING id",
                   {Text(d.name), Text(machine), Text(d.kind), Text(d.description)}));
  return ReturnedId(rows, "device");
}

Result<int64_t> BenchStore::InsertResult(int64_t run_id, const std::string& machine, const ResultRecord& r) {
  ACCEL_ASSIGN_OR_RETURN(int64_t model_id, UpsertModel(r.model));
  ACCEL_ASSIGN_OR_RETURN(int64_t device_id, UpsertDevice(r.device, machine));
  ACCEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      conn_->Query(
          "INSERT INTO results (run_id, model_id, device_id, dtype, batch_size, seq_len, scenario, status, error, "
          "load_ms, first_ms, iterations, latency_mean_ms, latency_min_ms, latency_p50_ms, latency_p90_ms, "
          "latency_p99_ms, latency_max_ms, latency_stddev_ms, throughput, throughput_unit, prefill_tokens_per_s, "
          "decode_tokens_per_s, peak_rss_bytes, wall_s, created_at, target_qps, threads, gen_tokens, ttft_ms, "
          "prefill_tokens_per_s_sd, decode_tokens_per_s_sd) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
          "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32) "
          "RETURNING id",
          {run_id, model_id, device_id, Text(r.dtype), int64_t{r.batch_size}, int64_t{r.seq_len}, Text(r.scenario),
           Text(r.status), r.error.empty() ? SqlParam{nullptr} : Text(r.error), Opt(r.load_ms), Opt(r.first_ms),
           int64_t{r.iterations}, Opt(r.latency_mean_ms), Opt(r.latency_min_ms), Opt(r.latency_p50_ms),
           Opt(r.latency_p90_ms), Opt(r.latency_p99_ms), Opt(r.latency_max_ms), Opt(r.latency_stddev_ms),
           Opt(r.throughput), Text(r.throughput_unit), Opt(r.prefill_tokens_per_s), Opt(r.decode_tokens_per_s),
           Opt(r.peak_rss_bytes), Opt(r.wall_s), Text(r.created_at.empty() ? NowIsoUtc() : r.created_at),
           Opt(r.target_qps), Opt(r.threads), Opt(r.gen_tokens), Opt(r.ttft_ms), Opt(r.prefill_tokens_per_s_sd),
           Opt(r.decode_tokens_per_s_sd)}));
  ACCEL_ASSIGN_OR_RETURN(int64_t result_id, ReturnedId(rows, "result"));
  for (const ValidationRecord& v : r.validations) ACCEL_RETURN_IF_ERROR(InsertValidation(result_id, v));
  return result_id;
}

Status BenchStore::InsertValidation(int64_t result_id, const ValidationRecord& v) {
  return conn_->Execute(
      "INSERT INTO validations (result_id, kind, status, max_abs_diff, reference, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {result_id, Text(v.kind), Text(v.status), Opt(v.max_abs_diff), Text(v.reference), Text(v.detail)});
}

Result<std::vector<int64_t>> BenchStore::AddResults(int64_t run_id, const std::string& machine,
                                                    const std::vector<ResultRecord>& results) {
  std::vector<int64_t> ids;
  ACCEL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    ids.clear();
    for (const auto& r : results) {
      ACCEL_ASSIGN_OR_RETURN(int64_t id, InsertResult(run_id, machine, r));
      ids.push_back(id);
    }
    return Status::Ok();
  }));
  return ids;
}

Status BenchStore::AddValidation(int64_t result_id, const ValidationRecord& v) {
  return InTransaction([&]() -> Status { return InsertValidation(result_id, v); });
}

Status BenchStore::FinishRun(int64_t run_id, const std::string& finished_at) {
  return InTransaction([&]() -> Status {
    return conn_->Execute("UPDATE runs SET finished_at = $1 WHERE id = $2", {Text(finished_at), run_id});
  });
}

Result<bool> BenchStore::ImportRun(const RunRecord& run) {
  bool inserted = false;
  ACCEL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    ACCEL_ASSIGN_OR_RETURN(SqlRows existing, conn_->Query("SELECT id FROM runs WHERE uuid = $1", {Text(run.uuid)}));
    if (!existing.rows.empty()) return Status::Ok();
    ACCEL_ASSIGN_OR_RETURN(int64_t run_id, InsertRunRow(run));
    for (const auto& r : run.results) ACCEL_RETURN_IF_ERROR(InsertResult(run_id, run.machine, r).status());
    inserted = true;
    return Status::Ok();
  }));
  return inserted;
}

Result<std::vector<RunRecord>> BenchStore::ExportRuns() {
  ACCEL_ASSIGN_OR_RETURN(SqlRows runs,
                         conn_->Query("SELECT id, uuid, started_at, finished_at, machine, hardware_json, "
                                      "software_version, git_commit, suite, command_line FROM runs ORDER BY id",
                                      {}));
  ACCEL_ASSIGN_OR_RETURN(
      SqlRows results,
      conn_->Query("SELECT r.id, r.run_id, m.name, m.family, m.task, m.source, m.synthetic, m.params, d.name, d.kind, "
                   "d.description, r.dtype, r.batch_size, r.seq_len, r.scenario, r.status, r.error, r.load_ms, "
                   "r.first_ms, r.iterations, r.latency_mean_ms, r.latency_min_ms, r.latency_p50_ms, "
                   "r.latency_p90_ms, r.latency_p99_ms, r.latency_max_ms, r.latency_stddev_ms, r.throughput, "
                   "r.throughput_unit, r.prefill_tokens_per_s, r.decode_tokens_per_s, r.peak_rss_bytes, r.wall_s, "
                   "r.created_at, r.target_qps, r.threads, r.gen_tokens, r.ttft_ms, r.prefill_tokens_per_s_sd, "
                   "r.decode_tokens_per_s_sd FROM results r JOIN models m ON m.id = r.model_id "
                   "JOIN devices d ON d.id = r.device_id ORDER BY r.id",
                   {}));
  ACCEL_ASSIGN_OR_RETURN(SqlRows validations,
                         conn_->Query("SELECT result_id, kind, status, max_abs_diff, reference, detail "
                                      "FROM validations ORDER BY id",
                                      {}));
  std::map<int64_t, std::vector<ValidationRecord>> by_result;
  for (const auto& row : validations.rows) {
    ValidationRecord v{CellText(row[1]), CellText(row[2]), CellDouble(row[3]), CellText(row[4]), CellText(row[5])};
    by_result[CellInt(row[0]).value_or(-1)].push_back(std::move(v));
  }
  std::vector<RunRecord> out;
  std::map<int64_t, size_t> run_index;
  for (const auto& row : runs.rows) {
    RunRecord r;
    r.uuid = CellText(row[1]);
    r.started_at = CellText(row[2]);
    r.finished_at = CellText(row[3]);
    r.machine = CellText(row[4]);
    r.hardware = nlohmann::json::parse(CellText(row[5]), nullptr, false);
    if (r.hardware.is_discarded()) r.hardware = nlohmann::json::object();
    r.software_version = CellText(row[6]);
    r.git_commit = CellText(row[7]);
    r.suite = CellText(row[8]);
    r.command_line = CellText(row[9]);
    run_index[CellInt(row[0]).value_or(-1)] = out.size();
    out.push_back(std::move(r));
  }
  for (const auto& row : results.rows) {
    auto it = run_index.find(CellInt(row[1]).value_or(-1));
    if (it == run_index.end()) continue;
    ResultRecord r;
    r.model = {CellText(row[2]), CellText(row[3]), CellText(row[4]), CellText(row[5]),
               CellInt(row[6]).value_or(0) != 0, CellInt(row[7])};
    r.device = {CellText(row[8]), CellText(row[9]), CellText(row[10])};
    r.dtype = CellText(row[11]);
    r.batch_size = static_cast<int>(CellInt(row[12]).value_or(1));
    r.seq_len = static_cast<int>(CellInt(row[13]).value_or(0));
    r.scenario = CellText(row[14]);
    r.status = CellText(row[15]);
    r.error = CellText(row[16]);
    r.load_ms = CellDouble(row[17]);
    r.first_ms = CellDouble(row[18]);
    r.iterations = static_cast<int>(CellInt(row[19]).value_or(0));
    r.latency_mean_ms = CellDouble(row[20]);
    r.latency_min_ms = CellDouble(row[21]);
    r.latency_p50_ms = CellDouble(row[22]);
    r.latency_p90_ms = CellDouble(row[23]);
    r.latency_p99_ms = CellDouble(row[24]);
    r.latency_max_ms = CellDouble(row[25]);
    r.latency_stddev_ms = CellDouble(row[26]);
    r.throughput = CellDouble(row[27]);
    r.throughput_unit = CellText(row[28]);
    r.prefill_tokens_per_s = CellDouble(row[29]);
    r.decode_tokens_per_s = CellDouble(row[30]);
    r.peak_rss_bytes = CellInt(row[31]);
    r.wall_s = CellDouble(row[32]);
    r.created_at = CellText(row[33]);
    r.target_qps = CellDouble(row[34]);
    if (auto v = CellInt(row[35])) r.threads = static_cast<int>(*v);
    if (auto v = CellInt(row[36])) r.gen_tokens = static_cast<int>(*v);
    r.ttft_ms = CellDouble(row[37]);
    r.prefill_tokens_per_s_sd = CellDouble(row[38]);
    r.decode_tokens_per_s_sd = CellDouble(row[39]);
    auto v = by_result.find(CellInt(row[0]).value_or(-1));
    if (v != by_result.end()) r.validations = std::move(v->second);
    out[it->second].results.push_back(std::move(r));
  }
  return out;
}

}  // namespace accel::db
