#pragma once
#include <string>

#include "db/sql_connection.h"

struct sqlite3;

namespace accel::db {

// SQLite in WAL mode with a generous busy timeout: several `accel bench` processes may
// write one file at once, each transaction waits its turn rather than failing. A file this
// user cannot write is opened read-only: reading commands work, writing ones fail in one line.
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
  SqliteConnection(sqlite3* db, std::string path, bool read_only)
      : db_(db), path_(std::move(path)), read_only_(read_only) {}
  // `name` is what SQLite opens: the path, or a file: URI with parameters.
  static Result<std::unique_ptr<SqlConnection>> OpenWith(const std::string& path, const std::string& name, int flags,
                                                         bool read_only);
  Status Error(const std::string& what) const;
  Status ReadOnlyError() const;
  sqlite3* db_;
  std::string path_;
  bool read_only_;
};

}  // namespace accel::db
