#pragma once
#include <string>

#include "db/sql_connection.h"

struct sqlite3;

namespace accel::db {

// SQLite in WAL mode with a generous busy timeout: several `accel bench` processes may
// write one file at once, each transaction waits its turn rather than failing.
class SqliteConnection final : public SqlConnection {
 public:
  static Result<std::unique_ptr<SqlConnection>> Open(const std::string& path);
  ~SqliteConnection() override;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  std::string description() const override { return path_; }
  Status Execute(const std::string& sql, const std::vector<SqlParam>& params) override;
  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params) override;
  Status BeginWrite() override;
  Status Commit() override;
  Status Rollback() override;

 private:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Error(const std::string& what) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace accel::db
