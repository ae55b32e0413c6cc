#pragma once
// What the report concludes from its data, computed apart from any HTML: the machine table,
// the headline summary per model x device x dtype, and the run-to-run change of each point.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/report_data.h"

namespace accel::report {

// (label, value) rows from a run's hardware JSON and versions: CPU, cores, ISA, memory, GPUs,
// OS, accel version and commit, date. A malformed JSON gives what the columns alone say.
std::vector<std::pair<std::string, std::string>> MachineRows(const RunRow& run);

// The best of one model on one device in one dtype, over its batch sizes and scenarios.
struct Headline {
  std::string model, family, device, dtype, unit;
  std::optional<double> best_throughput, best_p50_ms, prefill_tps, decode_tps;
  // Throughput (else 1/latency) relative to the model's baseline: cpu f32 where it ran, else
  // the model's slowest device and dtype.
  std::optional<double> speedup;
  std::string baseline;
};
std::vector<Headline> Headlines(const std::vector<PointRow>& points);

// A point of the latest run against its previous result. ratio > 1 means slower: the p50 ratio
// new/old when both have latency, else old/new throughput.
enum class Trend { kNone, kSame, kFaster, kSlower };
struct Change {
  Trend trend = Trend::kNone;
  double ratio = 1;
};
inline constexpr double kRegressionThreshold = 0.10;  // >10% slower is a regression
Change CompareToPrevious(const PointRow& p, double threshold = kRegressionThreshold);

}  // namespace accel::report
