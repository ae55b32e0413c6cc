#include "bench/point_runner.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "bench/latency_stats.h"
#include "core/thread_pool.h"
#include "db/bench_store.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

db::ResultRecord BaseRecord(const BenchPoint& point, const db::ModelRecord& model, const db::DeviceRecord& device,
                            const std::string& scenario) {
  db::ResultRecord r;
  r.model = model;
  r.device = device;
  r.dtype = point.dtype;
  r.batch_size = point.batch;
  r.seq_len = point.seq_len;
  r.scenario = scenario;
  r.created_at = db::NowIsoUtc();
  return r;
}

void SetLatency(db::ResultRecord& r, const std::vector<double>& ms) {
  LatencyStats s = Summarize(ms);
  r.iterations = s.count;
  if (s.count == 0) return;
  r.latency_mean_ms = s.mean;
  r.latency_min_ms = s.min;
  r.latency_max_ms = s.max;
  r.latency_stddev_ms = s.stddev;
  r.latency_p50_ms = s.p50;
  r.latency_p90_ms = s.p90;
  r.latency_p99_ms = s.p99;
}

// Runs until `iterations` or the budget, at least once; records each run's latency and
// accumulates generation timings. Returns the first error.
struct LoopResult {
  std::vector<double> latencies_ms;
  double elapsed_s = 0;
  // Per generation run: prompt and decode tokens/s, and the time to the first new token.
  std::vector<double> prefill_tps, decode_tps, ttft_ms;
  int64_t new_tokens_per_run = 0;
};

Status TimedLoop(Workload& w, const MeasureOptions& opt, LoopResult& out) {
  auto start = Clock::now();
  for (int i = 0; i < opt.iterations; ++i) {
    auto t0 = Clock::now();
    ACCEL_RETURN_IF_ERROR(w.RunOnce());
    out.latencies_ms.push_back(MsSince(t0));
    if (auto g = w.LastGenerationTiming()) {
      // The first new token of each row comes out of the prefill; decode makes the rest.
      if (g->prefill_ms > 0) out.prefill_tps.push_back(g->prefill_tokens / (g->prefill_ms / 1000.0));
      if (g->decode_ms > 0) out.decode_tps.push_back(g->decode_tokens / (g->decode_ms / 1000.0));
      out.ttft_ms.push_back(g->prefill_ms);
      out.new_tokens_per_run = g->new_tokens_per_row;
    }
    if (MsSince(start) >= opt.time_budget_s * 1000.0) break;
  }
  out.elapsed_s = MsSince(start) / 1000.0;
  return Status::Ok();
}

// llama-bench's figures: the mean of the runs' rates, with their standard deviation.
void SetGeneration(db::ResultRecord& r, const LoopResult& loop) {
  if (loop.ttft_ms.empty()) return;
  if (!loop.prefill_tps.empty()) {
    LatencyStats s = Summarize(loop.prefill_tps);
    r.prefill_tokens_per_s = s.mean;
    r.prefill_tokens_per_s_sd = s.stddev;
  }
  if (!loop.decode_tps.empty()) {
    LatencyStats s = Summarize(loop.decode_tps);
    r.decode_tokens_per_s = s.mean;
    r.decode_tokens_per_s_sd = s.stddev;
  }
  r.ttft_ms = Summarize(loop.ttft_ms).mean;
  r.gen_tokens = static_cast<int>(loop.new_tokens_per_run);
}

Status SingleStream(Workload& w, const MeasureOptions& opt, db::ResultRecord& r) {
  auto warm_start = Clock::now();
  for (int i = 0; i < opt.warmup && MsSince(warm_start) < opt.time_budget_s * 1000.0; ++i)
    ACCEL_RETURN_IF_ERROR(w.RunOnce());
  LoopResult loop;
  ACCEL_RETURN_IF_ERROR(TimedLoop(w, opt, loop));
  SetLatency(r, loop.latencies_ms);
  if (r.latency_mean_ms && *r.latency_mean_ms > 0) r.throughput = w.ItemsPerRun() / (*r.latency_mean_ms / 1000.0);
  SetGeneration(r, loop);
  return Status::Ok();
}

Status Offline(Workload& w, const MeasureOptions& opt, db::ResultRecord& r) {
  LoopResult loop;
  ACCEL_RETURN_IF_ERROR(TimedLoop(w, opt, loop));
  SetLatency(r, loop.latencies_ms);
  // Throughput over the wall time of the whole loop, gaps included.
  if (loop.elapsed_s > 0) r.throughput = w.ItemsPerRun() * double(loop.latencies_ms.size()) / loop.elapsed_s;
  SetGeneration(r, loop);
  return Status::Ok();
}

Status Server(Workload& w, const MeasureOptions& opt, double single_stream_p50_ms, db::ResultRecord& r) {
  if (single_stream_p50_ms <= 0) {
    // No single-stream result to size the load from: measure one run.
    auto t0 = Clock::now();
    ACCEL_RETURN_IF_ERROR(w.RunOnce());
    single_stream_p50_ms = std::max(MsSince(t0), 0.001);
  }
  double qps = opt.server_load_fraction * 1000.0 / single_stream_p50_ms;
  double bound_ms = opt.server_latency_bound_ms > 0 ? opt.server_latency_bound_ms : 4.0 * single_stream_p50_ms;
  std::mt19937_64 rng(opt.seed);
  std::exponential_distribution<double> gap_s(qps);
  auto start = Clock::now();
  auto next_arrival = start;
  std::vector<double> latencies;
  for (int i = 0; i < opt.iterations; ++i) {
    next_arrival += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap_s(rng)));
    // One worker: a query waits while the previous one runs, and that wait is its latency too.
    if (next_arrival > Clock::now()) std::this_thread::sleep_until(next_arrival);
    ACCEL_RETURN_IF_ERROR(w.RunOnce());
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - next_arrival).count());
    if (MsSince(start) >= opt.time_budget_s * 1000.0) break;
  }
  double elapsed_s = MsSince(start) / 1000.0;
  SetLatency(r, latencies);
  r.target_qps = qps;
  if (elapsed_s > 0) r.throughput = w.ItemsPerRun() * double(latencies.size()) / elapsed_s;
  bool met = r.latency_p99_ms && *r.latency_p99_ms <= bound_ms;
  char detail[160];
  std::snprintf(detail, sizeof detail, "p99 %.3f ms against a bound of %.3f ms at %.2f queries/s",
                r.latency_p99_ms.value_or(0), bound_ms, qps);
  r.validations.push_back({"latency-bound", met ? "passed" : "failed", std::nullopt, "server scenario", detail});
  return Status::Ok();
}

}  // namespace

int64_t PeakRssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

db::ResultRecord FailedRecord(const BenchPoint& point, const db::ModelRecord& model, const db::DeviceRecord& device,
                              const std::string& scenario, const std::string& status, const std::string& error) {
  db::ResultRecord r = BaseRecord(point, model, device, scenario);
  r.status = status;
  r.error = error;
  return r;
}

PointMeasurement MeasurePoint(WorkloadFactory& factory, const BenchPoint& point, const db::ModelRecord& model,
                              const db::DeviceRecord& device, const MeasureOptions& opt) {
  PointMeasurement out;
  const std::string first_scenario = opt.scenarios.empty() ? kSingleStream : opt.scenarios.front();
  auto point_start = Clock::now();
  auto fail = [&](const Status& st, const char* stage) {
    out.results = {FailedRecord(point, model, device, first_scenario, db::kStatusFailed,
                                std::string(stage) + ": " + st.message())};
    out.results[0].wall_s = MsSince(point_start) / 1000.0;
    out.results[0].peak_rss_bytes = PeakRssBytes();
    return out;
  };

  auto t0 = Clock::now();
  auto created = factory.Create(point);
  if (!created.ok()) return fail(created.status(), "load");
  double load_ms = MsSince(t0);
  std::unique_ptr<Workload> w = std::move(created).value();

  t0 = Clock::now();
  if (Status st = w->RunOnce(); !st.ok()) return fail(st, "first run");
  double first_ms = MsSince(t0);

  std::vector<db::ValidationRecord> validations;
  auto v = w->Validate();
  if (v.ok()) validations.push_back(*v);
  else validations.push_back({"reference", "failed", std::nullopt, "", v.status().message()});
  out.output_sample = w->OutputSample();

  double p50 = 0;
  for (const std::string& scenario : opt.scenarios) {
    db::ResultRecord r = BaseRecord(point, model, device, scenario);
    // Here in the (child) process that ran the point: asking in the parent would start the
    // pool there, before the next fork.
    r.threads = ThreadPool::Global().num_threads();
    r.load_ms = load_ms;
    r.first_ms = first_ms;
    r.throughput_unit = w->ThroughputUnit();
    r.validations = validations;
    Status st;
    if (scenario == kSingleStream) st = SingleStream(*w, opt, r);
    else if (scenario == kOffline) st = Offline(*w, opt, r);
    else if (scenario == kServer) st = Server(*w, opt, p50, r);
    else st = InvalidArgument("unknown scenario \"" + scenario + "\"");
    if (!st.ok()) {
      r.status = db::kStatusFailed;
      r.error = scenario + ": " + st.message();
    }
    if (scenario == kSingleStream && r.latency_p50_ms) p50 = *r.latency_p50_ms;
    out.results.push_back(std::move(r));
  }
  int64_t rss = PeakRssBytes();
  double wall_s = MsSince(point_start) / 1000.0;
  for (auto& r : out.results) {
    r.peak_rss_bytes = rss;
    r.wall_s = wall_s;
  }
  return out;
}

}  // namespace accel::bench
