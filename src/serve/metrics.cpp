#include "serve/metrics.h"

#include <sstream>

#include "serve/model_registry.h"

namespace accel::serve {
namespace {
const double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
constexpr size_t kNumBounds = sizeof(kBounds) / sizeof(kBounds[0]);

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
void RenderHistogram(std::ostringstream& o, const std::string& name, const std::string& label, const std::string& value,
                     const std::vector<uint64_t>& buckets, double sum, uint64_t count) {
  const std::string l = label + "=\"" + Escape(value) + "\"";
  uint64_t cum = 0;
  for (size_t i = 0; i < kNumBounds; ++i) {
    cum += buckets[i];
    o << name << "_bucket{" << l << ",le=\"" << kBounds[i] << "\"} " << cum << "\n";
  }
  o << name << "_bucket{" << l << ",le=\"+Inf\"} " << count << "\n";
  o << name << "_sum{" << l << "} " << sum << "\n";
  o << name << "_count{" << l << "} " << count << "\n";
}

// KV cache and batch counters of every generator's continuous batcher.
void RenderBatchers(std::ostringstream& o, const ModelRegistry& registry) {
  struct Row {
    std::string model;
    generation::ContinuousBatcher::Stats s;
  };
  std::vector<Row> rows;
  for (const auto& m : registry.models())
    if (m->batcher()) rows.push_back({m->name(), m->batcher()->stats()});
  auto gauge = [&](const char* name, const char* type, const char* help, auto field) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const Row& r : rows) o << name << "{model=\"" << Escape(r.model) << "\"} " << field(r.s) << "\n";
  };
  using S = generation::ContinuousBatcher::Stats;
  gauge("accel_kv_cache_tokens", "gauge", "KV-cache slots holding tokens of live sequences.", [](const S& s) { return s.kv_tokens; });
  gauge("accel_kv_cache_capacity_tokens", "gauge", "KV-cache slots allocated (batch slots x tokens per slot).", [](const S& s) { return s.kv_capacity_tokens; });
  gauge("accel_kv_cache_bytes", "gauge", "Bytes the KV cache holds on its device.", [](const S& s) { return s.kv_bytes; });
  gauge("accel_batch_slots", "gauge", "Sequences a generator decodes together (--parallel).", [](const S& s) { return s.slots; });
  gauge("accel_decode_steps_total", "counter", "Batched decode steps.", [](const S& s) { return s.decode_steps; });
  gauge("accel_decode_rows_total", "counter", "Sequences over all decode steps (divided by steps: the mean batch).", [](const S& s) { return s.decode_rows; });
  gauge("accel_prefills_total", "counter", "Prompts prefilled into a batch slot.", [](const S& s) { return s.prefills; });
}
}  // namespace

void Metrics::RenderHistograms(std::ostringstream& o, const std::string& name, const std::string& help, const std::string& label,
                               const std::map<std::string, Histogram>& by) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  for (const auto& [value, h] : by) RenderHistogram(o, name, label, value, h.buckets, h.sum, h.count);
}

void Metrics::Request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  latency_[route].Observe(seconds);
}

void Metrics::Histogram::Observe(double seconds) {
  if (buckets.empty()) buckets.assign(kNumBounds, 0);
  for (size_t i = 0; i < kNumBounds; ++i)
    if (seconds <= kBounds[i]) {
      ++buckets[i];
      break;
    }
  sum += seconds;
  ++count;
}

void Metrics::FirstToken(const std::string& model, double queue_seconds, double ttft_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_wait_[model].Observe(queue_seconds);
  ttft_[model].Observe(ttft_seconds);
}

void Metrics::Tokens(const std::string& model, int64_t prompt, int64_t generated) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = tokens_[model];
  t.first += prompt;
  t.second += generated;
}

void Metrics::Rejected(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[model];
}

void Metrics::Failover(const std::string& model, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++failovers_[{model, reason}];
}

void Metrics::EmbedBatch(const std::string& model, size_t requests) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& [forwards, carried] = embed_batches_[model];
  ++forwards;
  carried += requests;
}

std::string Metrics::Render(const ModelRegistry& registry) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP accel_requests_total HTTP requests by route and status.\n# TYPE accel_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    o << "accel_requests_total{route=\"" << Escape(k.first) << "\",status=\"" << k.second << "\"} " << v << "\n";
  RenderHistograms(o, "accel_request_duration_seconds", "Request latency by route (streams: until the stream ends).", "route", latency_);
  RenderHistograms(o, "accel_time_to_first_token_seconds", "Generation requests: arrival to first token, by model.", "model", ttft_);
  RenderHistograms(o, "accel_batch_queue_seconds", "Generation requests: wait for a batch slot, by model.", "model", queue_wait_);
  o << "# HELP accel_prompt_tokens_total Prompt tokens processed by model.\n# TYPE accel_prompt_tokens_total counter\n";
  for (const auto& [m, t] : tokens_) o << "accel_prompt_tokens_total{model=\"" << Escape(m) << "\"} " << t.first << "\n";
  o << "# HELP accel_generated_tokens_total Tokens generated by model.\n# TYPE accel_generated_tokens_total counter\n";
  for (const auto& [m, t] : tokens_) o << "accel_generated_tokens_total{model=\"" << Escape(m) << "\"} " << t.second << "\n";
  o << "# HELP accel_rejected_total Requests refused with 429 because the model's queue was full.\n"
       "# TYPE accel_rejected_total counter\n";
  for (const auto& [m, v] : rejected_) o << "accel_rejected_total{model=\"" << Escape(m) << "\"} " << v << "\n";
  o << "# HELP accel_serve_failovers_total Routed requests moved to the next endpoint, by route and reason.\n"
       "# TYPE accel_serve_failovers_total counter\n";
  for (const auto& [k, v] : failovers_)
    o << "accel_serve_failovers_total{model=\"" << Escape(k.first) << "\",reason=\"" << Escape(k.second) << "\"} " << v << "\n";
  o << "# HELP accel_embed_batches_total Embedding forwards, each carrying one or more requests.\n"
       "# TYPE accel_embed_batches_total counter\n";
  for (const auto& [m, v] : embed_batches_) o << "accel_embed_batches_total{model=\"" << Escape(m) << "\"} " << v.first << "\n";
  o << "# HELP accel_embed_batched_requests_total Embedding requests by model, counted in the forward that ran them.\n"
       "# TYPE accel_embed_batched_requests_total counter\n";
  for (const auto& [m, v] : embed_batches_) o << "accel_embed_batched_requests_total{model=\"" << Escape(m) << "\"} " << v.second << "\n";
  o << "# HELP accel_queue_depth Requests waiting for the model.\n# TYPE accel_queue_depth gauge\n";
  for (const auto& m : registry.models()) o << "accel_queue_depth{model=\"" << Escape(m->name()) << "\"} " << m->queued() << "\n";
  o << "# HELP accel_running Requests running on the model.\n# TYPE accel_running gauge\n";
  for (const auto& m : registry.models()) o << "accel_running{model=\"" << Escape(m->name()) << "\"} " << m->running() << "\n";
  RenderBatchers(o, registry);
  return o.str();
}

}  // namespace accel::serve
