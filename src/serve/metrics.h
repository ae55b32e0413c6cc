#pragma once
// Counters for /metrics, in Prometheus text format 0.0.4: requests by route and status, a
// latency histogram by route (handler time; for streams, until the stream ends), prompt and
// generated tokens by model, rejected (429) requests by model, embedding batches and the requests
// they carried by model, time to first token by model, and live queue depth, running requests
// and KV-cache use by model (read from the registry and the models' batchers when scraped).
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace accel::serve {

class ModelRegistry;

class Metrics {
 public:
  void Request(const std::string& route, int status, double seconds);
  void Tokens(const std::string& model, int64_t prompt, int64_t generated);
  void Rejected(const std::string& model);
  // A routed request left an endpoint for the next one (reason: overload, rate_limit, ...).
  void Failover(const std::string& model, const std::string& reason);
  // One forward that embedded `requests` requests together (dynamic batching).
  void EmbedBatch(const std::string& model, size_t requests);
  // A generation's wait for a batch slot and its time from arrival to first token.
  void FirstToken(const std::string& model, double queue_seconds, double ttft_seconds);
  std::string Render(const ModelRegistry& registry) const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts are computed when rendering
    double sum = 0;
    uint64_t count = 0;
    void Observe(double seconds);
  };
  static void RenderHistograms(std::ostringstream& o, const std::string& name, const std::string& help, const std::string& label,
                               const std::map<std::string, Histogram>& by);
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, Histogram> ttft_, queue_wait_;  // by model
  std::map<std::string, std::pair<uint64_t, uint64_t>> tokens_;
  std::map<std::string, uint64_t> rejected_;
  std::map<std::pair<std::string, std::string>, uint64_t> failovers_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> embed_batches_;  // forwards, requests
};

}  // namespace accel::serve
