#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace accel::log {
namespace {

Level FromEnv() {
  Level l = Level::kInfo;
  if (const char* e = std::getenv("ACCEL_LOG_LEVEL")) ParseLevel(e, &l);
  return l;
}

std::atomic<int>& Current() {
  static std::atomic<int> level{static_cast<int>(FromEnv())};
  return level;
}

}  // namespace

void SetLevel(Level level) { Current().store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(Current().load()); }
bool Enabled(Level level) { return static_cast<int>(level) <= Current().load(); }

bool ParseLevel(const std::string& name, Level* level) {
  if (name == "error") *level = Level::kError;
  else if (name == "warn" || name == "warning") *level = Level::kWarn;
  else if (name == "info") *level = Level::kInfo;
  else if (name == "debug") *level = Level::kDebug;
  else return false;
  return true;
}

void Write(Level level, const std::string& message) {
  if (!Enabled(level)) return;
  static std::mutex mu;  // one line at a time from worker threads
  const char* tag = level == Level::kWarn ? "warning: " : level == Level::kDebug ? "debug: " : "";
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "accel: %s%s\n", tag, message.c_str());
}

}  // namespace accel::log
