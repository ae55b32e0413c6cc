#pragma once
// The seam between the benchmark harness and whatever it measures. An engine provides a
// WorkloadFactory (registered by name, see workload_registry.h); the harness asks it which
// points to run, creates one Workload per point (inside an isolated child process, timing
// the creation as load time) and calls RunOnce() repeatedly.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "db/records.h"

namespace accel::bench {

// One cell of the benchmark matrix.
struct BenchPoint {
  std::string model;
  std::string device = "cpu";
  std::string dtype = "f32";
  int batch = 1;
  int seq_len = 128;     // for generators: the prompt length (llama-bench's -p)
  int gen_tokens = 0;    // for generators: new tokens per run (llama-bench's -n); 0 for encoders

  std::string Label() const;  // "bert-base cpu f32 b8 s128", "llama-1b cpu q4_k b1 s128 n32"
  bool operator==(const BenchPoint&) const = default;
};

// What one generation RunOnce() spent on prefill and on decode (for tokens/s of each).
struct GenerationTiming {
  double prefill_ms = 0, decode_ms = 0;
  int64_t prefill_tokens = 0, decode_tokens = 0;
  int64_t new_tokens_per_row = 0;
};

// One model prepared on one device and dtype, with its inputs, ready to run.
class Workload {
 public:
  virtual ~Workload() = default;
  // One inference at the point's batch and sequence length.
  virtual Status RunOnce() = 0;
  // Items one RunOnce() processes (batch for encoders, generated tokens for generation).
  virtual double ItemsPerRun() const = 0;
  // Unit of throughput, e.g. "samples/s", "tokens/s".
  virtual std::string ThroughputUnit() const { return "samples/s"; }
  // Compares the last RunOnce() output with the model's reference outputs, where it has them.
  virtual Result<db::ValidationRecord> Validate() {
    return db::ValidationRecord{"reference", "skipped", std::nullopt, "", "no reference outputs for this model"};
  }
  // A few output values of the last RunOnce(), for agreement between devices (empty: none).
  virtual std::vector<float> OutputSample() const { return {}; }
  // For generation workloads: how the last RunOnce() split between prefill and decode.
  virtual std::optional<GenerationTiming> LastGenerationTiming() const { return std::nullopt; }
};

// What an engine provides to the harness. DefaultPoints and the Describe* calls run in the
// parent process and must stay cheap (no weights loaded, no threads started: the harness
// forks after calling them); Create runs in the child.
class WorkloadFactory {
 public:
  virtual ~WorkloadFactory() = default;
  // The matrix for a suite: "quick" (a few minutes) or "full" (everything supported).
  virtual std::vector<BenchPoint> DefaultPoints(const std::string& suite) const = 0;
  // The points that benchmark one named model (`--models`): by default the full suite's points
  // of that model, else one point at the defaults when DescribeModel knows the name; empty when
  // the model is unknown.
  virtual std::vector<BenchPoint> PointsFor(const std::string& model) const;
  virtual Result<db::ModelRecord> DescribeModel(const std::string& model) const = 0;
  virtual Result<db::DeviceRecord> DescribeDevice(const std::string& device) const = 0;
  // Prepares the point; the harness measures load time around this call.
  virtual Result<std::unique_ptr<Workload>> Create(const BenchPoint& point) = 0;
};

}  // namespace accel::bench
