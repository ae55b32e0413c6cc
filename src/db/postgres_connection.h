#pragma once
#include <string>

#include "db/sql_connection.h"

typedef struct pg_conn PGconn;

namespace accel::db {

// PostgreSQL through libpq: every statement is sent with PQexecParams (text parameters), so
// values never travel inside the SQL text.
class PostgresConnection final : public SqlConnection {
 public:
  static Result<std::unique_ptr<SqlConnection>> Open(const std::string& url);
  ~PostgresConnection() override;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  std::string description() const override { return shown_url_; }
  Status Execute(const std::string& sql, const std::vector<SqlParam>& params) override;
  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params) override;
  Status BeginWrite() override;
  Status Commit() override;
  Status Rollback() override;

 private:
  PostgresConnection(PGconn* conn, std::string shown_url) : conn_(conn), shown_url_(std::move(shown_url)) {}
  PGconn* conn_;
  std::string shown_url_;  // the URL with any password masked
};

// "postgres://user:secret@host/db" -> "postgres://user:***@host/db"
std::string MaskPassword(const std::string& url);

}  // namespace accel::db
