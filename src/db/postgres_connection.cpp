#include "db/postgres_connection.h"

#include "core/redact.h"

#include <libpq-fe.h>

#include <cstdio>

namespace accel::db {
namespace {

struct ResultGuard {
  PGresult* res = nullptr;
  ~ResultGuard() { PQclear(res); }
};

std::string Trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq messages may span lines; the CLI prints one line.
  for (char& c : s)
    if (c == '\n') c = ' ';
  return RedactSecrets(s);  // libpq quotes the offending URI part, secrets included
}

std::string ParamText(const SqlParam& p) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) return {};
        else if constexpr (std::is_same_v<T, int64_t>) return std::to_string(v);
        else if constexpr (std::is_same_v<T, double>) {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", v);
          return buf;
        } else return v;
      },
      p);
}

}  // namespace

std::string MaskPassword(const std::string& url) {
  // user:password@ and ?password= / sslpassword= / conninfo password=...
  return RedactSecrets(url);
}

Result<std::unique_ptr<SqlConnection>> PostgresConnection::Open(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string shown = MaskPassword(url);
  if (!conn) return IoError(shown + ": cannot allocate a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return IoError(shown + ": cannot connect to PostgreSQL: " + msg);
  }
  std::unique_ptr<PostgresConnection> c(new PostgresConnection(conn, shown));
  ACCEL_RETURN_IF_ERROR(c->Execute("SET client_min_messages TO WARNING", {}));
  return std::unique_ptr<SqlConnection>(std::move(c));
}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

Status PostgresConnection::Execute(const std::string& sql, const std::vector<SqlParam>& params) {
  if (params.empty()) {
    ResultGuard g{PQexec(conn_, sql.c_str())};
    ExecStatusType st = PQresultStatus(g.res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      return IoError(shown_url_ + ": " + Trimmed(PQerrorMessage(conn_)));
    return Status::Ok();
  }
  auto rows = Query(sql, params);
  return rows.ok() ? Status::Ok() : rows.status();
}

Result<SqlRows> PostgresConnection::Query(const std::string& sql, const std::vector<SqlParam>& params) {
  std::vector<std::string> texts;
  std::vector<const char*> values;
  texts.reserve(params.size());
  for (const auto& p : params) texts.push_back(ParamText(p));
  for (size_t i = 0; i < params.size(); ++i)
    values.push_back(std::holds_alternative<std::nullptr_t>(params[i]) ? nullptr : texts[i].c_str());
  ResultGuard g{PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0)};
  ExecStatusType st = PQresultStatus(g.res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    return IoError(shown_url_ + ": " + Trimmed(PQerrorMessage(conn_)));
  SqlRows out;
  int ncol = PQnfields(g.res), nrow = PQntuples(g.res);
  for (int c = 0; c < ncol; ++c) out.columns.push_back(PQfname(g.res, c));
  for (int r = 0; r < nrow; ++r) {
    SqlRow row(ncol);
    for (int c = 0; c < ncol; ++c)
      if (!PQgetisnull(g.res, r, c)) row[c] = std::string(PQgetvalue(g.res, r, c), PQgetlength(g.res, r, c));
    out.rows.push_back(std::move(row));
  }
  return out;
}

Status PostgresConnection::BeginWrite() { return Execute("BEGIN", {}); }
Status PostgresConnection::Commit() { return Execute("COMMIT", {}); }
Status PostgresConnection::Rollback() { return Execute("ROLLBACK", {}); }

}  // namespace accel::db
