#pragma once
// Progress of a benchmark run: a redrawn bar on a terminal, one plain line per point
// otherwise (logs, CI, pipes).
#include <cstdio>
#include <string>

#include "db/records.h"

namespace accel::bench {

class Progress {
 public:
  // `interactive`: draw a bar (normally isatty of the stream).
  Progress(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}
  static Progress ForStdout();
  static Progress ForStderr();

  void Start(int total_points);
  void PointStarted(int index, const std::string& label);
  void PointFinished(int index, const std::string& label, const std::vector<db::ResultRecord>& results);
  void Finish();

 private:
  void DrawBar(int done, const std::string& label);
  std::FILE* out_;
  bool interactive_;
  int total_ = 0;
};

// "ok  p50 1.234 ms  812.3 samples/s" or "timeout: exceeded ..."
std::string OneLineSummary(const db::ResultRecord& r);

}  // namespace accel::bench
