#include "db/migrations.h"

#include "core/clock.h"

namespace accel::db {
namespace {

// Version 1: the data model of records.h. Timestamps are ISO-8601 text and the hardware
// snapshot is JSON text, so both engines store them the same way.
const char* kSchemaV1 = R"SQL(
CREATE TABLE runs (
  id {{ID}},
  uuid TEXT NOT NULL UNIQUE,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  machine TEXT NOT NULL,
  hardware_json TEXT NOT NULL,
  software_version TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  suite TEXT,
  command_line TEXT
);
CREATE TABLE models (
  id {{ID}},
  name TEXT NOT NULL UNIQUE,
  family TEXT NOT NULL,
  task TEXT,
  source TEXT,
  synthetic INTEGER NOT NULL,
  params BIGINT
);
CREATE TABLE devices (
  id {{ID}},
  name TEXT NOT NULL,
  machine TEXT NOT NULL,
  kind TEXT,
  description TEXT,
  UNIQUE (name, machine)
);
CREATE TABLE results (
  id {{ID}},
  run_id BIGINT NOT NULL REFERENCES runs(id),
  model_id BIGINT NOT NULL REFERENCES models(id),
  device_id BIGINT NOT NULL REFERENCES devices(id),
  dtype TEXT NOT NULL,
  batch_size INTEGER NOT NULL,
  seq_len INTEGER NOT NULL,
  scenario TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  load_ms DOUBLE PRECISION,
  first_ms DOUBLE PRECISION,
  iterations INTEGER NOT NULL,
  latency_mean_ms DOUBLE PRECISION,
  latency_min_ms DOUBLE PRECISION,
  latency_p50_ms DOUBLE PRECISION,
  latency_p90_ms DOUBLE PRECISION,
  latency_p99_ms DOUBLE PRECISION,
  latency_max_ms DOUBLE PRECISION,
  latency_stddev_ms DOUBLE PRECISION,
  throughput DOUBLE PRECISION,
  throughput_unit TEXT,
  prefill_tokens_per_s DOUBLE PRECISION,
  decode_tokens_per_s DOUBLE PRECISION,
  peak_rss_bytes BIGINT,
  wall_s DOUBLE PRECISION,
  created_at TEXT NOT NULL
);
CREATE TABLE validations (
  id {{ID}},
  result_id BIGINT NOT NULL REFERENCES results(id),
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  max_abs_diff DOUBLE PRECISION,
  reference TEXT,
  detail TEXT
)
)SQL";

// Version 2: the server scenario's offered load, and indexes for the query tool's lookups.
const char* kSchemaV2 = R"SQL(
ALTER TABLE results ADD COLUMN target_qps DOUBLE PRECISION;
CREATE INDEX results_point ON results (model_id, device_id, dtype, batch_size, seq_len, scenario);
CREATE INDEX results_run ON results (run_id);
CREATE INDEX validations_result ON validations (result_id)
)SQL";

// Version 3: per-point threads, and llama-bench's figures for generation points.
const char* kSchemaV3 = R"SQL(
ALTER TABLE results ADD COLUMN threads INTEGER;
ALTER TABLE results ADD COLUMN gen_tokens INTEGER;
ALTER TABLE results ADD COLUMN ttft_ms DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN prefill_tokens_per_s_sd DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN decode_tokens_per_s_sd DOUBLE PRECISION
)SQL";

std::string ForDialect(std::string sql, SqlDialect dialect) {
  const std::string token = "{{ID}}";
  const std::string id = dialect == SqlDialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  for (size_t pos; (pos = sql.find(token)) != std::string::npos;) sql.replace(pos, token.size(), id);
  return sql;
}

// Statements are run one by one: libpq's PQexec accepts a batch, but one at a time names
// the failing statement and behaves the same on both engines.
std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = sql.find(';', start);
    std::string stmt = sql.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (stmt.find_first_not_of(" \n\t") != std::string::npos) out.push_back(stmt);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Status ApplyMissing(SqlConnection& conn) {
  ACCEL_RETURN_IF_ERROR(conn.Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)"));
  ACCEL_ASSIGN_OR_RETURN(int current, CurrentSchemaVersion(conn));
  if (current > LatestSchemaVersion())
    return Unsupported(conn.description() + ": database schema version " + std::to_string(current) +
                       " is newer than this accel understands (" + std::to_string(LatestSchemaVersion()) +
                       "); use a newer accel");
  for (const Migration& m : Migrations()) {
    if (m.version <= current) continue;
    for (const std::string& stmt : SplitStatements(ForDialect(m.sql, conn.dialect()))) {
      Status st = conn.Execute(stmt);
      if (!st.ok()) return st.WithContext("schema migration " + std::to_string(m.version) + " (" + m.description + ")");
    }
    ACCEL_RETURN_IF_ERROR(conn.Execute("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                                       {int64_t{m.version}, NowIsoUtc()}));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, "runs, models, devices, results, validations", kSchemaV1},
      {2, "server scenario column and lookup indexes", kSchemaV2},
      {3, "threads, time to first token and token-rate spread per result", kSchemaV3},
  };
  return migrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> CurrentSchemaVersion(SqlConnection& conn) {
  ACCEL_ASSIGN_OR_RETURN(SqlRows rows, conn.Query("SELECT MAX(version) FROM schema_version", {}));
  if (rows.rows.empty()) return 0;
  auto v = CellInt(rows.rows[0][0]);
  return v ? static_cast<int>(*v) : 0;
}

Status MigrateToLatest(SqlConnection& conn) {
  // Fast path without the write lock: an up-to-date database needs nothing.
  auto current = CurrentSchemaVersion(conn);
  if (!current.ok() && current.status().code() == StatusCode::kCorrupt) return current.status();
  if (current.ok() && *current == LatestSchemaVersion()) return Status::Ok();
  if (current.ok() && *current > LatestSchemaVersion())
    return Unsupported(conn.description() + ": database schema version " + std::to_string(*current) +
                       " is newer than this accel understands (" + std::to_string(LatestSchemaVersion()) +
                       "); use a newer accel");

  ACCEL_RETURN_IF_ERROR(conn.BeginWrite());
  Status st = Status::Ok();
  if (conn.dialect() == SqlDialect::kPostgres) {
    // Serialises concurrent migrators on one server; released at COMMIT/ROLLBACK.
    st = conn.Execute("SELECT pg_advisory_xact_lock(7012001)");
  }
  if (st.ok()) st = ApplyMissing(conn);
  if (!st.ok()) {
    (void)conn.Rollback();
    return st;
  }
  return conn.Commit();
}

}  // namespace accel::db
