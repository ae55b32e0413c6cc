#pragma once
// One logging discipline for the library and the CLI: results go to stdout, everything else
// (warnings, progress, debug detail) to stderr through here, filtered by one process-wide
// level. `accel -v` shows debug lines, `accel --quiet` only errors; ACCEL_LOG_LEVEL
// (error, warn, info, debug) sets the level when no flag does.
#include <string>

namespace accel::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void SetLevel(Level level);
Level GetLevel();
bool Enabled(Level level);
// "error", "warn"/"warning", "info", "debug"; false when `name` is none of them.
bool ParseLevel(const std::string& name, Level* level);

// Writes "accel: [warning: |debug: ]message" to stderr when `level` is enabled.
void Write(Level level, const std::string& message);
inline void Error(const std::string& m) { Write(Level::kError, m); }
inline void Warn(const std::string& m) { Write(Level::kWarn, m); }
inline void Info(const std::string& m) { Write(Level::kInfo, m); }
inline void Debug(const std::string& m) { Write(Level::kDebug, m); }

}  // namespace accel::log
