#pragma once
// The --db option every benchmark-database command shares, and opening it.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "db/bench_store.h"

namespace accel::cli {

inline void AddDbOption(CLI::App& app, std::string& target) {
  target = db::DefaultDatabaseTarget();
  app.add_option("--db", target, "benchmark database: a SQLite file or a postgres:// URL (default ./accel.db or $ACCEL_DB)");
}

// `must_exist`: readers refuse to create an empty SQLite file where none was.
Result<std::unique_ptr<db::BenchStore>> OpenStore(const std::string& target, bool must_exist);

}  // namespace accel::cli
