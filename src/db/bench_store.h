#pragma once
// The benchmark database as the rest of accel sees it: open (and migrate), record runs and
// their results in transactions, import and export whole runs.
#include <memory>
#include <string>

#include "core/clock.h"
#include <vector>

#include "db/records.h"
#include "db/sql_connection.h"

namespace accel::db {

// "./accel.db" unless ACCEL_DB is set.
std::string DefaultDatabaseTarget();

class BenchStore {
 public:
  // Opens a SQLite path or a postgres:// URL and brings its schema up to date.
  static Result<std::unique_ptr<BenchStore>> Open(const std::string& target);

  SqlConnection& connection() { return *conn_; }
  std::string description() const { return conn_->description(); }

  // Inserts the run's own row (its results are added as they are measured); returns its id.
  Result<int64_t> BeginRun(const RunRecord& run);
  // Adds results (with their models, devices and validations) in one transaction: all of
  // them or none. Returns the new results' ids, in order.
  Result<std::vector<int64_t>> AddResults(int64_t run_id, const std::string& machine,
                                          const std::vector<ResultRecord>& results);
  // Adds a validation found later (agreement between devices) to a stored result.
  Status AddValidation(int64_t result_id, const ValidationRecord& v);
  Status FinishRun(int64_t run_id, const std::string& finished_at);

  // Writes a whole run in one transaction. Returns false (and writes nothing) when a run
  // with the same uuid is already stored.
  Result<bool> ImportRun(const RunRecord& run);
  // Every run with its results, oldest first.
  Result<std::vector<RunRecord>> ExportRuns();

 private:
  explicit BenchStore(std::unique_ptr<SqlConnection> conn) : conn_(std::move(conn)) {}
  Result<int64_t> InsertRunRow(const RunRecord& run);
  Result<int64_t> InsertResult(int64_t run_id, const std::string& machine, const ResultRecord& r);
  Status InsertValidation(int64_t result_id, const ValidationRecord& v);
  Result<int64_t> UpsertModel(const ModelRecord& m);
  Result<int64_t> UpsertDevice(const DeviceRecord& d, const std::string& machine);
  // Runs fn inside a write transaction; rolls back if it fails.
  template <typename Fn>
  Status InTransaction(Fn&& fn);

  std::unique_ptr<SqlConnection> conn_;
};

using accel::NowIsoUtc;  // core/clock.h: the timestamps the database stores

}  // namespace accel::db
