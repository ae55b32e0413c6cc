#include "db/sql_connection.h"

#include <cerrno>
#include <cstdlib>

#include "db/postgres_connection.h"
#include "db/sqlite_connection.h"

namespace accel::db {

bool IsPostgresUrl(const std::string& target) {
  if (target.rfind("postgres://", 0) == 0 || target.rfind("postgresql://", 0) == 0) return true;
  // A libpq keyword/value string ("host=db user=u password=p") is PostgreSQL too: taking it as
  // a SQLite path would create a file named after the password.
  static constexpr const char* kKeywords[] = {"host",  "hostaddr", "port",    "dbname",          "user",
                                              "password", "service", "sslmode", "connect_timeout", "passfile"};
  for (const char* k : kKeywords) {
    const std::string kw = std::string(k) + "=";
    if (target.rfind(kw, 0) == 0 || target.find(" " + kw) != std::string::npos) return true;
  }
  return false;
}

Result<std::unique_ptr<SqlConnection>> OpenSqlConnection(const std::string& target) {
  if (target.empty()) return InvalidArgument("database: empty path");
  if (IsPostgresUrl(target)) return PostgresConnection::Open(target);
  return SqliteConnection::Open(target);
}

std::optional<double> CellDouble(const std::optional<std::string>& cell) {
  if (!cell || cell->empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(cell->c_str(), &end);
  if (end == cell->c_str() || *end != '\0') return std::nullopt;
  return v;
}

std::optional<int64_t> CellInt(const std::optional<std::string>& cell) {
  if (!cell || cell->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(cell->c_str(), &end, 10);
  if (end == cell->c_str() || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace accel::db
