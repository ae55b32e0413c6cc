#pragma once
// Picks the device and dtype to run a model on, with a reason for every rank:
//   1. compatibility: the backend is built and has the hardware, it runs the model's family,
//      and the memory estimate (weights + activations + KV cache) fits the device's budget;
//   2. predicted latency from past benchmarks when there are any for this device and dtype —
//      the same model and workload measured, else a least-squares fit of time on FLOPs and
//      weight bytes over the same model, the same family, or all models, with its error;
//   3. otherwise rules (accelerators before the CPU, native 16-bit before f32 before
//      quantized), stated in words.
// The runtime calls SelectDevice for `--device auto`; `accel select` prints the ranking.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/hw_report.h"
#include "registry/classifier.h"
#include "registry/memory_estimator.h"
#include "placement/perf_history.h"

namespace accel {

struct Workload {
  int64_t batch = 1;
  int64_t seq = 128;
};

struct ModelProfile {
  std::string name;
  registry::Classification classification;
  registry::ParamCount params;
  HfConfig config;
  bool decoder = false;  // generates tokens (has a KV cache)

  static Result<ModelProfile> FromEvidence(const registry::ModelEvidence& evidence);
};

struct LatencyFit {
  int samples = 0;
  std::string basis;          // "same model", "same family", "all models"
  double ms_per_gflop = 0, ms_per_gb = 0, intercept_ms = 0;
  double relative_rms_error = 0;  // in-sample, e.g. 0.12 = 12%
};

struct Candidate {
  std::string backend, device, dtype;
  int device_index = 0;
  bool compatible = false;
  std::string why_not;          // when incompatible
  registry::MemoryEstimate memory;
  int64_t budget_bytes = 0;
  std::string method;           // "measured", "fit", "rules"
  double predicted_ms = -1;     // -1 = no prediction
  double error_ms = 0;          // spread of measurements or fit error at this point
  LatencyFit fit;
  std::string reason;           // why this rank, in words
  int rank = 0;                 // 1 = best; 0 = incompatible
};

struct SelectionOptions {
  int64_t memory_limit_bytes = 0;  // caps every device's budget; 0 = no cap
};

struct Selection {
  std::vector<Candidate> candidates;  // ranked compatible ones first, then incompatible
  std::vector<std::string> notes;     // about the model as a whole (engine support)
  const Candidate* best() const { return !candidates.empty() && candidates[0].compatible ? &candidates[0] : nullptr; }
};

Result<Selection> SelectDevice(const ModelProfile& model, const Workload& workload, const hw::HwReport& hardware,
                               const PerfHistory* history, const SelectionOptions& options);

// Least squares of latency on (GFLOP, GB, 1) — or GFLOP alone with fewer than 4 samples or a
// singular system. Exposed for tests.
LatencyFit FitLatency(const std::vector<PerfSample>& samples, std::string basis);
double PredictMs(const LatencyFit& fit, double flops, double bytes);

// The ranking as `accel select --json` prints it (the caller adds "model").
nlohmann::json ToJson(const Selection& selection, const ModelProfile& profile, const Workload& workload);

}  // namespace accel
