#include "api/resilience/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace accel::api {

namespace {
// Counts merged from the stats file are untrusted: sums saturate rather than wrap to zero (or,
// for the signed token counts, overflow). Found by fuzz_stats_file.
uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

int BucketOf(double us) {
  if (!(us >= 1)) return 0;
  int e = static_cast<int>(std::floor(std::log2(us)));
  double base = std::ldexp(1.0, e);
  int sub = static_cast<int>((us - base) / base * 8);
  int b = e * 8 + std::min(sub, 7);
  return std::min(b, 40 * 8 - 1);
}
double BucketMid(int b) {
  int e = b / 8, sub = b % 8;
  double base = std::ldexp(1.0, e);
  return base + base * (sub + 0.5) / 8;
}
}  // namespace

void LatencyHistogram::Add(double micros) {
  ++buckets_[BucketOf(micros)];
  ++count_;
}

double LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  const double r = std::ceil(p / 100.0 * static_cast<double>(count_));
  uint64_t rank = r >= 18446744073709551615.0 ? count_ : static_cast<uint64_t>(r);  // 2^64 does not convert
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen = SatAdd(seen, buckets_[b]);
    if (seen >= rank) return BucketMid(b);
  }
  return BucketMid(kBuckets - 1);
}

void LatencyHistogram::Merge(const LatencyHistogram& o) {
  for (int b = 0; b < kBuckets; ++b) buckets_[b] = SatAdd(buckets_[b], o.buckets_[b]);
  count_ = SatAdd(count_, o.count_);
}

nlohmann::json LatencyHistogram::ToJson() const {
  nlohmann::json j = nlohmann::json::array();
  for (int b = 0; b < kBuckets; ++b)
    if (buckets_[b]) j.push_back({b, buckets_[b]});
  return j;
}

LatencyHistogram LatencyHistogram::FromJson(const nlohmann::json& j) {
  LatencyHistogram h;
  if (!j.is_array()) return h;
  for (const auto& pair : j) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() || !pair[1].is_number_unsigned()) continue;
    int b = pair[0].get<int>();
    if (b < 0 || b >= kBuckets) continue;
    h.buckets_[b] = SatAdd(h.buckets_[b], pair[1].get<uint64_t>());
    h.count_ = SatAdd(h.count_, pair[1].get<uint64_t>());
  }
  return h;
}

void StatsCell::Merge(const StatsCell& o) {
  attempts = SatAdd(attempts, o.attempts);
  successes = SatAdd(successes, o.successes);
  retries = SatAdd(retries, o.retries);
  for (int i = 0; i < kNumErrorClasses; ++i) errors[i] = SatAdd(errors[i], o.errors[i]);
  prompt_tokens = SatAdd(prompt_tokens, o.prompt_tokens);
  completion_tokens = SatAdd(completion_tokens, o.completion_tokens);
  latency.Merge(o.latency);
}

void ApiStats::Record(const StatsKey& key, bool retry, const ApiError* error, double latency_us, const Usage& usage) {
  std::lock_guard<std::mutex> lock(mu_);
  StatsCell& c = cells_[key];
  ++c.attempts;
  if (retry) ++c.retries;
  if (error) ++c.errors[static_cast<int>(error->cls)];
  else ++c.successes;
  c.prompt_tokens = SatAdd(c.prompt_tokens, usage.prompt_tokens);  // usage comes from the server
  c.completion_tokens = SatAdd(c.completion_tokens, usage.completion_tokens);
  c.latency.Add(latency_us);
}

std::map<StatsKey, StatsCell> ApiStats::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cells_;
}

nlohmann::json ApiStats::ToJson() const {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& [k, c] : Snapshot()) {
    nlohmann::json errors = nlohmann::json::object();
    for (int i = 0; i < kNumErrorClasses; ++i)
      if (c.errors[i]) errors[ErrorClassName(static_cast<ErrorClass>(i))] = c.errors[i];
    cells.push_back({{"provider", k.provider}, {"model", k.model}, {"endpoint", k.endpoint}, {"key", k.key},
                     {"attempts", c.attempts}, {"successes", c.successes}, {"retries", c.retries},
                     {"errors", errors}, {"prompt_tokens", c.prompt_tokens},
                     {"completion_tokens", c.completion_tokens}, {"p50_us", c.latency.Percentile(50)},
                     {"p99_us", c.latency.Percentile(99)}, {"histogram", c.latency.ToJson()}});
  }
  return {{"cells", cells}};
}

Status ApiStats::MergeJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("cells") || !j["cells"].is_array()) return Corrupt("stats file: no \"cells\" array");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : j["cells"]) {
    if (!e.is_object()) return Corrupt("stats file: a cell is not an object");
    auto str = [&](const char* k) { return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string(); };
    // ToJson() holds the token counts as signed integers (a parsed file holds them unsigned).
    auto num = [&](const char* k) -> uint64_t {
      if (!e.contains(k)) return 0;
      const auto& v = e[k];
      if (v.is_number_unsigned()) return v.get<uint64_t>();
      if (v.is_number_integer() && v.get<int64_t>() > 0) return static_cast<uint64_t>(v.get<int64_t>());
      return 0;
    };
    StatsCell c;
    c.attempts = num("attempts");
    c.successes = num("successes");
    c.retries = num("retries");
    c.prompt_tokens = static_cast<int64_t>(std::min<uint64_t>(num("prompt_tokens"), INT64_MAX));
    c.completion_tokens = static_cast<int64_t>(std::min<uint64_t>(num("completion_tokens"), INT64_MAX));
    if (e.contains("errors") && e["errors"].is_object())
      for (int i = 0; i < kNumErrorClasses; ++i) {
        auto it = e["errors"].find(ErrorClassName(static_cast<ErrorClass>(i)));
        if (it != e["errors"].end() && it->is_number_unsigned()) c.errors[i] = it->get<uint64_t>();
      }
    if (e.contains("histogram")) c.latency = LatencyHistogram::FromJson(e["histogram"]);
    cells_[StatsKey{str("provider"), str("model"), str("endpoint"), str("key")}].Merge(c);
  }
  return Status::Ok();
}

std::string ApiStats::ToTable() const {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-8s %-24s %-32s %-8s %8s %8s %7s %10s %10s %9s %9s  %s\n", "provider", "model",
                "endpoint", "key", "attempts", "ok", "retries", "p50_ms", "p99_ms", "tok_in", "tok_out", "errors");
  out += line;
  for (const auto& [k, c] : Snapshot()) {
    std::string errors;
    for (int i = 0; i < kNumErrorClasses; ++i)
      if (c.errors[i]) errors += std::string(errors.empty() ? "" : ",") + ErrorClassName(static_cast<ErrorClass>(i)) + "=" + std::to_string(c.errors[i]);
    std::snprintf(line, sizeof line, "%-8s %-24s %-32s %-8s %8llu %8llu %7llu %10.2f %10.2f %9lld %9lld  %s\n",
                  k.provider.c_str(), k.model.c_str(), k.endpoint.c_str(), k.key.c_str(),
                  static_cast<unsigned long long>(c.attempts), static_cast<unsigned long long>(c.successes),
                  static_cast<unsigned long long>(c.retries), c.latency.Percentile(50) / 1000,
                  c.latency.Percentile(99) / 1000, static_cast<long long>(c.prompt_tokens),
                  static_cast<long long>(c.completion_tokens), errors.c_str());
    out += line;
  }
  return out;
}

}  // namespace accel::api
