// accel bench: run the benchmark matrix and store every point in the database.
#include <cstdio>

#include "bench/harness.h"
#include "bench/workload_registry.h"
#include "cli/command.h"
#include "cli/db_options.h"
#include "db/table.h"

namespace accel::cli {
namespace {

struct BenchArgs {
  std::string db, factory, format = "table";
  bench::BenchOptions options;
  double memory_limit_mb = 0;
  bool no_isolate = false, list = false, strict = false;
};

// The run's results, one row each: generation points as llama-bench reports them (pp<prompt>
// and tg<new> tokens/s, mean ± sd over the runs), the others by latency and throughput.
db::Table ResultsTable(const std::vector<db::ResultRecord>& results) {
  db::Table t;
  t.columns = {"model", "device", "dtype", "threads", "test", "scenario", "status", "p50_ms", "throughput", "unit",
               "pp_tok_s", "pp_sd", "tg_tok_s", "tg_sd", "ttft_ms"};
  auto num = [](const auto& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return db::FormatNumber(static_cast<double>(*v));
  };
  for (const auto& r : results) {
    std::string test = "b" + std::to_string(r.batch_size) + " s" + std::to_string(r.seq_len);
    if (r.gen_tokens) test = "b" + std::to_string(r.batch_size) + " pp" + std::to_string(r.seq_len) + "+tg" + std::to_string(*r.gen_tokens);
    t.rows.push_back({r.model.name, r.device.name, r.dtype, num(r.threads), test, r.scenario, r.status,
                      num(r.latency_p50_ms), num(r.throughput), r.throughput_unit, num(r.prefill_tokens_per_s),
                      num(r.prefill_tokens_per_s_sd), num(r.decode_tokens_per_s), num(r.decode_tokens_per_s_sd),
                      num(r.ttft_ms)});
  }
  return t;
}

Action SetupBench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto& o = a->options;
  AddDbOption(app, a->db);
  app.add_option("--factory", a->factory, "what to benchmark: a registered workload factory (default: the engine's)");
  app.add_option("--suite", o.suite, "quick or full")->check(CLI::IsMember({"quick", "full"}));
  app.add_option("--models,-m", o.models, "models to run (comma-separated): bundled or synthetic names, or your own: a folder, an HF id in the local cache, or a .gguf file")->delimiter(',');
  app.add_option("--devices", o.devices, "only these devices")->delimiter(',');
  app.add_option("--dtypes", o.dtypes, "only these dtypes")->delimiter(',');
  app.add_option("--batch-sizes", o.batch_sizes, "batch sizes to run")->delimiter(',');
  app.add_option("--seq-lens,-p,--n-prompt", o.seq_lens, "sequence lengths to run (for generators: prompt tokens)")->delimiter(',');
  app.add_option("-n,--n-gen", o.gen_tokens, "new tokens per generator run (default 32)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--iterations,-r,--repetitions", o.measure.iterations, "most measured runs per scenario")->check(CLI::Range(1, 1000000));
  app.add_option("--time-budget", o.measure.time_budget_s, "most seconds of measured runs per scenario")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--warmup", o.measure.warmup, "unmeasured runs before single-stream")->check(CLI::Range(0, 1000));
  app.add_option("--scenarios", o.measure.scenarios, "single-stream, offline, server")
      ->delimiter(',')
      ->check(CLI::IsMember({"single-stream", "offline", "server"}));
  app.add_option("--point-timeout", o.isolation.timeout_s, "kill a point after this many seconds")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--memory-limit-mb", a->memory_limit_mb, "kill a point whose resident memory exceeds this")
      ->check(CLI::Range(1.0, 1e9));
  app.add_flag("--no-isolate", a->no_isolate, "run points in this process (a crash ends the run)");
  app.add_flag("--list", a->list, "print the points and exit");
  app.add_flag("--strict", a->strict, "exit 1 when any point or agreement check failed");
  app.add_option("--format", a->format, "the results table at the end: table, json or csv (progress goes to stderr for json/csv)")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  return [a] {
    auto& o = a->options;
    o.isolate = !a->no_isolate;
    o.isolation.memory_limit_bytes = static_cast<int64_t>(a->memory_limit_mb * 1024 * 1024);
    if (o.measure.scenarios.empty()) return ReportError(InvalidArgument("--scenarios: none given"));
    auto factory = bench::MakeWorkloadFactory(a->factory);
    if (!factory.ok()) return ReportError(factory.status());
    if (a->list) {
      auto points = bench::ExpandMatrix(**factory, o);
      if (!points.ok()) return ReportError(points.status());
      for (const auto& p : *points) std::printf("%s\n", p.Label().c_str());
      return kExitOk;
    }
    auto format = db::ParseTableFormat(a->format);
    if (!format.ok()) return ReportError(format.status());
    // Machine-readable output keeps stdout for the table alone.
    FILE* log = *format == db::TableFormat::kTable ? stdout : stderr;
    auto store = OpenStore(a->db, /*must_exist=*/false);
    if (!store.ok()) return ReportError(store.status());
    std::fprintf(log, "bench: factory %s, database %s\n", a->factory.empty() ? bench::WorkloadFactoryNames().front().c_str()
                                                                               : a->factory.c_str(),
                 (*store)->description().c_str());
    auto progress = *format == db::TableFormat::kTable ? bench::Progress::ForStdout() : bench::Progress::ForStderr();
    auto summary = bench::RunBenchmark(**factory, o, **store, progress);
    if (!summary.ok()) return ReportError(summary.status());
    std::fprintf(log, "bench: run %s: %d points, %d results ok, %d failed", summary->run_uuid.c_str(), summary->points,
                 summary->results_ok, summary->results_failed);
    if (summary->agreement_checks)
      std::fprintf(log, ", %d/%d device agreement checks passed", summary->agreement_checks - summary->agreement_failures,
                   summary->agreement_checks);
    std::fprintf(log, "\nbench: results stored in %s (see `accel query performance`, `accel report`)\n",
                 (*store)->description().c_str());
    std::fputs(db::FormatTable(ResultsTable(summary->results), *format).c_str(), stdout);
    bool any_failed = summary->results_failed > 0 || summary->agreement_failures > 0;
    return a->strict && any_failed ? kExitCheckFailed : kExitOk;
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("bench", "benchmark models x devices x dtypes x batch sizes into the database", SetupBench);
}  // namespace accel::cli
