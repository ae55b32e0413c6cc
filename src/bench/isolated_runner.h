#pragma once
// Runs MeasurePoint in a forked child so that a crash, a hang or a runaway allocation costs
// one point, not the run: the parent watches the child's time and resident memory, kills it
// past its limits, and turns what happened into result records.
#include "bench/point_runner.h"

namespace accel::bench {

struct IsolationOptions {
  double timeout_s = 600;           // whole point: load + first run + every scenario
  int64_t memory_limit_bytes = 0;   // resident set; 0 = no limit of ours
};

PointMeasurement MeasurePointIsolated(WorkloadFactory& factory, const BenchPoint& point, const db::ModelRecord& model,
                                      const db::DeviceRecord& device, const MeasureOptions& options,
                                      const IsolationOptions& isolation);

}  // namespace accel::bench
