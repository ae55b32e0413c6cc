#pragma once
// The one seam between the benchmark store and a SQL engine. Statements are written once in
// the SQL both SQLite and PostgreSQL accept, with $1, $2, ... placeholders; each backend
// binds them its own way. Values come back as text (NULL as nullopt), which is all the
// store and the queries need.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"

namespace accel::db {

using SqlParam = std::variant<std::nullptr_t, int64_t, double, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<SqlRow> rows;
};

enum class SqlDialect { kSqlite, kPostgres };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Where the data lives, for messages ("./accel.db", "postgres://host:5432/db").
  virtual std::string description() const = 0;

  // Runs one statement (or, with no params, several separated by ';').
  virtual Status Execute(const std::string& sql, const std::vector<SqlParam>& params = {}) = 0;
  virtual Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params = {}) = 0;

  // A write transaction that takes the write lock up front (SQLite: BEGIN IMMEDIATE), so
  // concurrent writers queue instead of failing half-way.
  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
};

// Opens a database: a postgres:// or postgresql:// URL opens PostgreSQL, anything else is
// a SQLite file path (created if absent).
Result<std::unique_ptr<SqlConnection>> OpenSqlConnection(const std::string& target);
bool IsPostgresUrl(const std::string& target);

// Helpers to read a nullable text cell as a number.
std::optional<double> CellDouble(const std::optional<std::string>& cell);
std::optional<int64_t> CellInt(const std::optional<std::string>& cell);

}  // namespace accel::db
