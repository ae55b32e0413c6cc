#pragma once
// Request statistics per (provider, model, endpoint, key): attempts, successes, errors by
// class, retries, tokens and a latency histogram for percentiles. Keys appear by label only.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/wire/error.h"
#include "api/wire/types.h"

namespace accel::api {

// Log-linear latency histogram (8 sub-buckets per power of two of microseconds): about 9%
// bucket width, fixed memory, cheap to merge.
class LatencyHistogram {
 public:
  void Add(double micros);
  double Percentile(double p) const;  // microseconds; 0 when empty
  uint64_t count() const { return count_; }
  void Merge(const LatencyHistogram& other);
  nlohmann::json ToJson() const;  // sparse bucket list
  static LatencyHistogram FromJson(const nlohmann::json& j);

 private:
  static constexpr int kSub = 8;
  static constexpr int kBuckets = 40 * kSub;  // up to 2^40 us
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
};

struct StatsKey {
  std::string provider, model, endpoint, key;
  auto operator<=>(const StatsKey&) const = default;
};

struct StatsCell {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t retries = 0;  // attempts that were a retry of an earlier one
  std::array<uint64_t, kNumErrorClasses> errors{};
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  LatencyHistogram latency;
  void Merge(const StatsCell& o);
};

class ApiStats {
 public:
  void Record(const StatsKey& key, bool retry, const ApiError* error, double latency_us, const Usage& usage);
  std::map<StatsKey, StatsCell> Snapshot() const;
  // {"cells":[{"provider","model","endpoint","key","attempts",...,"p50_us","p99_us","histogram"}]}
  nlohmann::json ToJson() const;
  // Adds what a ToJson() document holds (the CLI keeps stats across runs in a file).
  Status MergeJson(const nlohmann::json& j);
  std::string ToTable() const;

 private:
  mutable std::mutex mu_;
  std::map<StatsKey, StatsCell> cells_;
};

}  // namespace accel::api
