#pragma once
// Past benchmark measurements, as device selection reads them. The benchmark database (src/db/)
// implements this interface; selection and its tests only see the interface.
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel {

struct PerfSample {
  std::string model;     // folder / HF id as benchmarked
  std::string family;    // catalog family, for "similar model" matches
  std::string backend;   // "cpu", "cuda", ...
  std::string device;    // device name as `accel hw` reports it
  std::string dtype;     // "f32", "bf16", ...
  int64_t batch = 1, seq = 1;
  double flops = 0;      // forward FLOPs of the workload
  double bytes = 0;      // weight bytes read per forward
  double latency_ms = 0;
};

class PerfHistory {
 public:
  virtual ~PerfHistory() = default;
  // Every measurement taken on `backend` at `dtype` (any device name, any model).
  virtual std::vector<PerfSample> Samples(const std::string& backend, const std::string& dtype) const = 0;
};

class InMemoryPerfHistory : public PerfHistory {
 public:
  void Add(PerfSample s) { samples_.push_back(std::move(s)); }
  std::vector<PerfSample> Samples(const std::string& backend, const std::string& dtype) const override;

  // One JSON object per line with the PerfSample field names (`accel select --history FILE`).
  static Result<std::unique_ptr<InMemoryPerfHistory>> LoadJsonLines(const std::string& path);

 private:
  std::vector<PerfSample> samples_;
};

}  // namespace accel
