#pragma once
// Summary statistics of a latency sample.
#include <vector>

namespace accel::bench {

struct LatencyStats {
  int count = 0;
  double mean = 0, min = 0, max = 0, stddev = 0;
  double p50 = 0, p90 = 0, p99 = 0;
};

// Percentiles by linear interpolation between closest ranks (numpy's default), so p50 of
// {1, 2} is 1.5 and p99 of a short sample stays within it.
double Percentile(std::vector<double> sorted_or_not, double q);
LatencyStats Summarize(const std::vector<double>& samples_ms);

}  // namespace accel::bench
