#pragma once
// `accel bench` as a library call: expand the matrix, run each point isolated, store each
// point's results as soon as it finishes (one transaction per point), then check that
// devices which ran the same point agree.
#include <string>
#include <vector>

#include "bench/isolated_runner.h"
#include "bench/point_runner.h"
#include "bench/progress.h"
#include "bench/workload.h"
#include "db/bench_store.h"

namespace accel::bench {

struct BenchOptions {
  std::string suite = "quick";
  // Empty = what the suite lists.
  std::vector<std::string> models, devices, dtypes;
  std::vector<int> batch_sizes, seq_lens;
  int gen_tokens = 0;  // new tokens per generator run (0: each point's own)
  MeasureOptions measure;
  IsolationOptions isolation;
  bool isolate = true;  // false runs points in this process (debugging only)
  std::string command_line;
  // Agreement between devices: |a - b| <= atol + rtol * |b| elementwise.
  double agreement_atol = 1e-3, agreement_rtol = 1e-2;
};

// The points to run: the suite's points, or each named model's (WorkloadFactory::PointsFor),
// filtered by devices/dtypes, with batch sizes, sequence lengths and generator token counts
// replaced when given. Names no point of the factory has are an InvalidArgument that lists the
// known ones.
Result<std::vector<BenchPoint>> ExpandMatrix(const WorkloadFactory& factory, const BenchOptions& options);

struct BenchSummary {
  int64_t run_id = 0;
  std::string run_uuid;
  int points = 0, results_ok = 0, results_failed = 0;
  int agreement_checks = 0, agreement_failures = 0;
  std::vector<db::ResultRecord> results;  // as stored, in run order (without agreement checks)
};

Result<BenchSummary> RunBenchmark(WorkloadFactory& factory, const BenchOptions& options, db::BenchStore& store,
                                  Progress& progress);

}  // namespace accel::bench
