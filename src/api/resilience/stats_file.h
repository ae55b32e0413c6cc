#pragma once
// The cross-process API statistics file (ACCEL_API_STATS). Every run merges its counts into it
// under an exclusive flock on "<path>.lock" and replaces it atomically (temp file + rename), so
// concurrent runs lose no updates and a reader never sees a half-written file.
#include <string>

#include "api/resilience/stats.h"
#include "core/status.h"

namespace accel::api {

// Adds the stats file's counts to *out; a missing file is empty stats. A directory, FIFO or device is an error.
Status LoadStatsFile(const std::string& path, ApiStats* out);

// Adds `stats` to the file at `path` (created with its parent folders). A corrupt file is replaced.
Status MergeStatsIntoFile(const std::string& path, const ApiStats& stats);

}  // namespace accel::api
