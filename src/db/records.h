#pragma once
// The benchmark database's data model as plain structs: one run (a machine, a time, a
// software version) holds many results (one per measured point and scenario), each with its
// validations. The harness produces these, the store writes them, JSON import/export
// round-trips them. Nothing here knows about SQL.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accel::db {

struct ModelRecord {
  std::string name;
  std::string family;  // e.g. "bert", "gpt2", "llama", "selftest"
  std::string task;    // e.g. "embedding", "generation"
  std::string source;  // where the weights came from: a path, "synthetic", ...
  bool synthetic = false;  // random weights at real shapes: speed is real, outputs are not
  std::optional<int64_t> params;
};

struct DeviceRecord {
  std::string name;         // "cpu", "cuda:0", ...
  std::string kind;         // "cpu", "cuda", "vulkan", ...
  std::string description;  // e.g. the CPU brand string
};

struct ValidationRecord {
  std::string kind;    // "reference" (against stored outputs) or "cross-device"
  std::string status;  // "passed", "failed", "skipped"
  std::optional<double> max_abs_diff;
  std::string reference;  // what it was compared with
  std::string detail;
};

// Status values of a result. Only kOk rows carry metrics.
inline constexpr const char* kStatusOk = "ok";
inline constexpr const char* kStatusFailed = "failed";    // the workload returned an error
inline constexpr const char* kStatusCrashed = "crashed";  // the child died on a signal
inline constexpr const char* kStatusTimeout = "timeout";  // it exceeded its time limit
inline constexpr const char* kStatusOom = "oom";          // it exceeded its memory limit

struct ResultRecord {
  ModelRecord model;
  DeviceRecord device;
  std::string dtype = "f32";
  int batch_size = 1;
  int seq_len = 0;
  std::string scenario = "single-stream";  // single-stream | offline | server
  std::string status = kStatusOk;
  std::string error;

  std::optional<double> load_ms;   // factory Create(): weights read/generated, kernels ready
  std::optional<double> first_ms;  // the cold first inference
  int iterations = 0;              // measured (warm) runs
  std::optional<double> latency_mean_ms, latency_min_ms, latency_p50_ms, latency_p90_ms,
      latency_p99_ms, latency_max_ms, latency_stddev_ms;
  std::optional<double> throughput;  // items per second
  std::string throughput_unit;       // "samples/s", "tokens/s", "GFLOP/s"...
  // Generation points: tokens/s of prompt processing and of decoding, each the mean over the
  // measured runs with its standard deviation (llama-bench's "t/s ± sd"), the mean time to the
  // first new token (the prefill), and the new tokens per run.
  std::optional<double> prefill_tokens_per_s, decode_tokens_per_s;
  std::optional<double> prefill_tokens_per_s_sd, decode_tokens_per_s_sd, ttft_ms;
  std::optional<int> gen_tokens;
  std::optional<int> threads;  // worker threads the point ran with
  std::optional<double> target_qps;  // server scenario: the Poisson arrival rate offered
  std::optional<int64_t> peak_rss_bytes;
  std::optional<double> wall_s;  // the whole point, load included
  std::string created_at;        // ISO-8601 UTC
  std::vector<ValidationRecord> validations;
};

struct RunRecord {
  std::string uuid;  // globally unique: importing the same export twice adds nothing
  std::string started_at, finished_at;
  std::string machine;  // host name
  nlohmann::json hardware = nlohmann::json::object();  // snapshot of the machine
  std::string software_version, git_commit;
  std::string suite, command_line;
  std::vector<ResultRecord> results;
};

}  // namespace accel::db
