#include "bench/progress.h"

#include <unistd.h>

#include "db/table.h"

namespace accel::bench {

Progress Progress::ForStdout() { return Progress(stdout, isatty(fileno(stdout)) != 0); }
Progress Progress::ForStderr() { return Progress(stderr, isatty(fileno(stderr)) != 0); }

std::string OneLineSummary(const db::ResultRecord& r) {
  if (r.status != db::kStatusOk) return r.status + ": " + r.error;
  std::string s = r.scenario + " ok";
  if (r.latency_p50_ms) s += ", p50 " + db::FormatNumber(*r.latency_p50_ms) + " ms";
  if (r.latency_p99_ms) s += ", p99 " + db::FormatNumber(*r.latency_p99_ms) + " ms";
  if (r.throughput) s += ", " + db::FormatNumber(*r.throughput) + " " + r.throughput_unit;
  // llama-bench's names: pp<prompt tokens> and tg<new tokens>, in tokens/s ± sd over the runs.
  auto rate = [](const std::optional<double>& mean, const std::optional<double>& sd) {
    return db::FormatNumber(*mean) + (sd ? " ± " + db::FormatNumber(*sd) : "") + " tok/s";
  };
  if (r.prefill_tokens_per_s) s += ", pp" + std::to_string(r.seq_len) + " " + rate(r.prefill_tokens_per_s, r.prefill_tokens_per_s_sd);
  if (r.decode_tokens_per_s)
    s += ", tg" + (r.gen_tokens ? std::to_string(*r.gen_tokens) : std::string()) + " " + rate(r.decode_tokens_per_s, r.decode_tokens_per_s_sd);
  if (r.ttft_ms) s += ", ttft " + db::FormatNumber(*r.ttft_ms) + " ms";
  for (const auto& v : r.validations)
    if (v.status != "skipped") s += ", " + v.kind + " " + v.status;
  return s;
}

void Progress::Start(int total_points) {
  total_ = total_points;
  if (!interactive_) std::fprintf(out_, "bench: %d points\n", total_points);
}

void Progress::DrawBar(int done, const std::string& label) {
  constexpr int kWidth = 30;
  int filled = total_ > 0 ? done * kWidth / total_ : kWidth;
  std::string bar(size_t(filled), '#');
  bar += std::string(size_t(kWidth - filled), '.');
  std::fprintf(out_, "\r\033[K[%s] %d/%d %s", bar.c_str(), done, total_, label.c_str());
  std::fflush(out_);
}

void Progress::PointStarted(int index, const std::string& label) {
  if (interactive_) DrawBar(index, label);
}

void Progress::PointFinished(int index, const std::string& label, const std::vector<db::ResultRecord>& results) {
  if (interactive_) std::fprintf(out_, "\r\033[K");
  for (const auto& r : results)
    std::fprintf(out_, "bench [%d/%d] %s: %s\n", index + 1, total_, label.c_str(), OneLineSummary(r).c_str());
  if (interactive_) DrawBar(index + 1, "");
  std::fflush(out_);
}

void Progress::Finish() {
  if (interactive_) std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
}

}  // namespace accel::bench
