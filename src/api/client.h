#pragma once
// ApiClient: one provider, its endpoints and keys, behind a bounded priority queue with
// retries (backoff + Retry-After), per-endpoint circuit breakers, key rotation with per-key
// rate limits, optional embedding batching and statistics. Every submitted request ends
// exactly once: its callback runs once with a value or a final classified error.
//
// Data flow per attempt: Scheduler worker -> EndpointPool.Acquire (breaker) -> KeyPool.Acquire
// -> Provider.Build* -> HttpSend (libcurl) -> Provider.Parse*/ClassifyError -> Stats.Record
// -> finish, or Scheduler.Resubmit after BackoffDelay.
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "api/providers/provider.h"
#include "api/resilience/backoff.h"
#include "api/resilience/routing.h"
#include "api/resilience/scheduler.h"
#include "api/resilience/stats.h"
#include "api/transport/http_client.h"

namespace accel::api {

struct BatchPolicy {
  bool enabled = false;
  int window_ms = 5;        // how long the first request of a batch waits for company
  size_t max_inputs = 64;   // a batch never holds more inputs than this
};

struct ClientConfig {
  std::string provider;                 // a MakeProvider name
  std::vector<std::string> base_urls;   // empty: the provider's default
  RouteStrategy endpoint_strategy = RouteStrategy::kRoundRobin;
  std::vector<ApiKeySpec> keys;         // empty: no auth
  RouteStrategy key_strategy = RouteStrategy::kRoundRobin;
  int concurrency = 8;                  // requests in flight at most (worker threads)
  size_t queue_capacity = 4096;         // waiting requests at most; more are refused (kOverloaded)
  BackoffPolicy backoff;
  BreakerPolicy breaker;
  HttpOptions http;
  BatchPolicy batch;
  // The whole request, every attempt and backoff wait included (0: no limit). Each attempt's
  // timeout is cut to what is left, and no retry starts after it.
  double request_deadline_s = 0;
};

// Keys from the provider's usual environment variable: one key, or several separated by
// commas (key multiplexing). Labels are key0, key1, ...
std::vector<ApiKeySpec> KeysFromEnv(const std::string& env_var);

template <typename T>
using Callback = std::function<void(uint64_t request_id, ApiResult<T> result)>;
using ChunkCallback = std::function<void(const ChatChunk& chunk)>;

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> Create(ClientConfig config, std::unique_ptr<Provider> provider = nullptr);
  ~ApiClient();  // requests still queued end with kCancelled

  // Asynchronous forms: return the request id; the callback runs exactly once (possibly on
  // the calling thread, when the queue is full).
  uint64_t SubmitChat(ChatRequest req, Priority prio, Callback<ChatResponse> done);
  uint64_t SubmitEmbed(EmbedRequest req, Priority prio, Callback<EmbedResponse> done);
  uint64_t SubmitRerank(RerankRequest req, Priority prio, Callback<RerankResponse> done);
  uint64_t SubmitInfer(KServeInferRequest req, Priority prio, Callback<KServeInferResponse> done);
  // Streaming: chunks go to on_chunk as they arrive (on a worker thread); the callback gets
  // the assembled response. A stream is retried only while no chunk has been delivered.
  uint64_t SubmitChatStream(ChatRequest req, Priority prio, ChunkCallback on_chunk, Callback<ChatResponse> done);

  // Blocking conveniences.
  ApiResult<ChatResponse> Chat(ChatRequest req, Priority prio = Priority::kNormal);
  ApiResult<ChatResponse> ChatStream(ChatRequest req, ChunkCallback on_chunk, Priority prio = Priority::kNormal);
  ApiResult<EmbedResponse> Embed(EmbedRequest req, Priority prio = Priority::kNormal);
  ApiResult<RerankResponse> Rerank(RerankRequest req, Priority prio = Priority::kNormal);
  ApiResult<KServeInferResponse> Infer(KServeInferRequest req, Priority prio = Priority::kNormal);

  const ApiStats& stats() const { return stats_; }
  const Provider& provider() const { return *provider_; }
  EndpointPool& endpoints() { return endpoints_; }

  // Internals shared with the call/batcher implementation files.
  struct Call;
  class Batcher;

 private:
  ApiClient(ClientConfig config, std::unique_ptr<Provider> provider);
  friend struct Call;
  void RunAttempt(const std::shared_ptr<Call>& call);
  void Enqueue(const std::shared_ptr<Call>& call);
  uint64_t NextId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t SubmitEmbedDirect(EmbedRequest req, Priority prio, Callback<EmbedResponse> done);

  ClientConfig config_;
  std::unique_ptr<Provider> provider_;
  EndpointPool endpoints_;
  KeyPool keys_;
  ApiStats stats_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<Scheduler> scheduler_;  // last: destroyed first, so workers stop before the rest
};

}  // namespace accel::api
