#include "db/sqlite_connection.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

namespace accel::db {
namespace {

constexpr int kBusyTimeoutMs = 60000;

// Frees a prepared statement on every path out of a function.
struct StmtGuard {
  sqlite3_stmt* stmt = nullptr;
  ~StmtGuard() { sqlite3_finalize(stmt); }
};

// An existing file this user may not write (permissions, a read-only mount): it is opened
// read-only, so queries and reports work and only writing commands fail.
bool ExistsReadOnly(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return false;
  return ::access(path.c_str(), W_OK) != 0 && (errno == EACCES || errno == EPERM || errno == EROFS);
}

// "file:" URI of a path, for the immutable=1 parameter (percent-encoding what a URI reserves).
std::string FileUri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      static const char* hex = "0123456789ABCDEF";
      uri += '%';
      uri += hex[c >> 4];
      uri += hex[c & 15];
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri;
}

}  // namespace

Result<std::unique_ptr<SqlConnection>> SqliteConnection::OpenWith(const std::string& path, const std::string& name,
                                                                   int flags, bool read_only) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return IoError(path + ": cannot open SQLite database: " + msg);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db, path, read_only));
  // The first statement reads the header: a file that is not SQLite fails here, clearly.
  // A read-only connection leaves the journal mode as the file has it.
  auto mode = conn->Query(read_only ? "PRAGMA journal_mode" : "PRAGMA journal_mode=WAL", {});
  if (!mode.ok()) return mode.status();
  ACCEL_RETURN_IF_ERROR(conn->Execute("PRAGMA foreign_keys=ON", {}));
  if (!read_only) ACCEL_RETURN_IF_ERROR(conn->Execute("PRAGMA synchronous=NORMAL", {}));
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

Result<std::unique_ptr<SqlConnection>> SqliteConnection::Open(const std::string& path) {
  if (!ExistsReadOnly(path)) return OpenWith(path, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, false);
  auto conn = OpenWith(path, path, SQLITE_OPEN_READONLY, true);
  if (conn.ok() || conn.status().code() == StatusCode::kCorrupt) return conn;
  // Reading a WAL database needs its -shm file, which a read-only folder cannot hold: open the
  // file as immutable then. Its WAL is not read, but a folder nobody here may write has no
  // writer of ours adding to it either.
  return OpenWith(path, FileUri(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, true);
}

SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

Status SqliteConnection::ReadOnlyError() const {
  return IoError(path_ + ": the database is read-only for this user (no write permission); this command writes to it");
}

Status SqliteConnection::Error(const std::string& what) const {
  int code = sqlite3_errcode(db_);
  std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  int primary = code & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    return Corrupt(path_ + ": not a usable SQLite database (" + sqlite3_errmsg(db_) + ")");
  if (primary == SQLITE_READONLY && read_only_) return ReadOnlyError();
  return IoError(msg);
}

Status SqliteConnection::Execute(const std::string& sql, const std::vector<SqlParam>& params) {
  if (params.empty()) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      sqlite3_free(err);
      return Error("executing SQL");
    }
    return Status::Ok();
  }
  auto rows = Query(sql, params);
  return rows.ok() ? Status::Ok() : rows.status();
}

Result<SqlRows> SqliteConnection::Query(const std::string& sql, const std::vector<SqlParam>& params) {
  StmtGuard g;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &g.stmt, nullptr) != SQLITE_OK)
    return Error("preparing SQL");
  if (!g.stmt) return SqlRows{};  // empty statement
  for (size_t i = 0; i < params.size(); ++i) {
    // Placeholders are named $1..$N; look each up so their order in the text does not matter.
    std::string name = "$" + std::to_string(i + 1);
    int idx = sqlite3_bind_parameter_index(g.stmt, name.c_str());
    if (idx == 0) continue;  // a parameter the statement does not use
    int rc = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) return sqlite3_bind_null(g.stmt, idx);
          else if constexpr (std::is_same_v<T, int64_t>) return sqlite3_bind_int64(g.stmt, idx, v);
          else if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(g.stmt, idx, v);
          else return sqlite3_bind_text(g.stmt, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        },
        params[i]);
    if (rc != SQLITE_OK) return Error("binding " + name);
  }
  SqlRows out;
  int ncol = sqlite3_column_count(g.stmt);
  for (int c = 0; c < ncol; ++c) out.columns.push_back(sqlite3_column_name(g.stmt, c));
  for (;;) {
    int rc = sqlite3_step(g.stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Error("running SQL");
    SqlRow row(ncol);
    for (int c = 0; c < ncol; ++c) {
      if (sqlite3_column_type(g.stmt, c) == SQLITE_NULL) continue;
      const unsigned char* text = sqlite3_column_text(g.stmt, c);
      int len = sqlite3_column_bytes(g.stmt, c);
      row[c] = std::string(reinterpret_cast<const char*>(text), len);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

Status SqliteConnection::BeginWrite() {
  if (read_only_) return ReadOnlyError();
  return Execute("BEGIN IMMEDIATE", {});
}
Status SqliteConnection::Commit() { return Execute("COMMIT", {}); }
Status SqliteConnection::Rollback() { return Execute("ROLLBACK", {}); }

}  // namespace accel::db
