#include "cli/db_options.h"

#include <filesystem>

namespace accel::cli {

Result<std::unique_ptr<db::BenchStore>> OpenStore(const std::string& target, bool must_exist) {
  if (must_exist && !db::IsPostgresUrl(target) && !std::filesystem::exists(target))
    return NotFound(target + ": no benchmark database here (run `accel bench` first, or pass --db)");
  return db::BenchStore::Open(target);
}

}  // namespace accel::cli
