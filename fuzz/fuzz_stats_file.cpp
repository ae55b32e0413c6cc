// libFuzzer target: the API statistics file (ACCEL_API_STATS) with arbitrary contents. Loading
// it and merging a run's counts into it never crash; after a merge the file loads again and
// holds at least the counts just added (a corrupt file is replaced, never kept half-merged).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "api/resilience/stats_file.h"

namespace {

// One file per fuzzing process (libFuzzer's -jobs run several at once).
const std::string& StatsPath() {
  static const std::string path = [] {
    const auto dir = std::filesystem::temp_directory_path() / ("accel-fuzz-stats-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / "stats.json").string();
  }();
  return path;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = StatsPath();
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  accel::api::ApiStats loaded;
  (void)accel::api::LoadStatsFile(path, &loaded);
  (void)loaded.ToTable();

  accel::api::ApiStats run;
  const accel::api::StatsKey key{"fuzz", "model", "/v1/chat", "k1"};
  run.Record(key, false, nullptr, 1500.0, {});
  accel::Status merged = accel::api::MergeStatsIntoFile(path, run);
  if (!merged.ok()) Fail("merge failed: " + merged.message());
  accel::api::ApiStats after;
  accel::Status reloaded = accel::api::LoadStatsFile(path, &after);
  if (!reloaded.ok()) Fail("the merged file does not load: " + reloaded.message());
  const auto cells = after.Snapshot();
  const auto it = cells.find(key);
  if (it == cells.end() || it->second.attempts < 1 || it->second.successes < 1) Fail("the merged counts are lost");
  (void)after.ToTable();
  return 0;
}
