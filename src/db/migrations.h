#pragma once
// The schema, as an ordered list of migrations. A database records the versions applied in
// `schema_version`; opening one applies the missing migrations in one transaction and
// refuses a database whose version is newer than this build knows.
#include <string>
#include <vector>

#include "db/sql_connection.h"

namespace accel::db {

struct Migration {
  int version;
  std::string description;
  std::string sql;  // statements separated by ';', with {{ID}} for the auto-increment key
};

const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion(). Safe when several processes open a fresh
// database at once: the check and the migration run under the write lock.
Status MigrateToLatest(SqlConnection& conn);

// The version recorded in the database (0 for a fresh one).
Result<int> CurrentSchemaVersion(SqlConnection& conn);

}  // namespace accel::db
