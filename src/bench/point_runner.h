#pragma once
// Measures one point in the calling process: load, cold first run, validation, then each
// scenario in the spirit of MLPerf LoadGen:
//   single-stream  one query at a time, back to back: the latency distribution
//   offline        all work available at once, run flat out: throughput
//   server         queries arrive as a Poisson process at a fraction of the single-stream
//                  rate; latency includes queueing, checked against a latency bound
// Every measured loop stops at `iterations` runs or `time_budget_s`, whichever comes first,
// after at least one run.
#include <string>
#include <vector>

#include "bench/workload.h"
#include "db/records.h"

namespace accel::bench {

inline constexpr const char* kSingleStream = "single-stream";
inline constexpr const char* kOffline = "offline";
inline constexpr const char* kServer = "server";

struct MeasureOptions {
  int iterations = 100;        // most measured runs per scenario
  double time_budget_s = 5.0;  // most seconds per scenario
  int warmup = 2;              // unmeasured runs before single-stream
  std::vector<std::string> scenarios = {kSingleStream, kOffline};
  double server_load_fraction = 0.5;  // offered rate as a fraction of single-stream capacity
  double server_latency_bound_ms = 0;  // 0: 4 x the single-stream p50
  uint64_t seed = 42;                  // Poisson arrivals are reproducible
};

struct PointMeasurement {
  std::vector<db::ResultRecord> results;  // one per scenario (one failed record on error)
  std::vector<float> output_sample;       // for agreement between devices
};

// `model` and `device` describe the point in every record produced.
PointMeasurement MeasurePoint(WorkloadFactory& factory, const BenchPoint& point, const db::ModelRecord& model,
                              const db::DeviceRecord& device, const MeasureOptions& options);

// A record for a point that produced no measurement (failed load, crash, timeout...).
db::ResultRecord FailedRecord(const BenchPoint& point, const db::ModelRecord& model, const db::DeviceRecord& device,
                              const std::string& scenario, const std::string& status, const std::string& error);

// This process's peak resident set (VmHWM), or 0 when unknown.
int64_t PeakRssBytes();

}  // namespace accel::bench
