#pragma once
// Routing of `accel serve`: a model name maps to an ordered list of endpoints, each either a
// local model (served with -m) or a remote provider of the API layer (src/api: openai, vllm,
// tgi, ollama, ...; another `accel serve` is an openai endpoint). Endpoints are tried by
// priority (lower first); among equal priorities the least busy goes first (local: requests
// admitted; remote: requests in flight). A request moves on to the next endpoint on overload
// (local queue full), rate limit (remote 429), timeout, connection failure, an open circuit
// breaker or a remote 5xx; each move is counted by reason. See docs/SERVE.md "Routing".
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/client.h"
#include "core/status.h"

namespace accel::serve {

class ModelRegistry;
class ServedModel;

struct EndpointSpec {
  std::string provider;  // "local", or an api provider name (openai, vllm, tgi, ollama, ...)
  std::string target;    // local: a model name given with -m; remote: the base URL
  std::string model;     // remote: the model name sent upstream ("" = the route's name)
  std::string key_env;   // remote: env var with the key(s) ("" = the provider's usual one)
  int priority = 0;      // lower is tried first
  double timeout_s = 60; // remote: the whole request
};

struct RouteSpec {
  std::string name;
  std::vector<EndpointSpec> endpoints;
};

// --route NAME=local:MODEL,openai:http://host:port/v1,... (priority = position).
Result<RouteSpec> ParseRouteFlag(const std::string& arg);
// {"routes": {"NAME": [{"provider": "local", "target": "MODEL"}, {"provider": "openai",
//  "target": "http://host:port/v1", "model": "...", "key_env": "...", "priority": 1,
//  "timeout_s": 30}, ...]}}
Result<std::vector<RouteSpec>> ParseRouteConfig(const std::string& json_text, const std::string& file_name);

// Why a request left an endpoint for the next one (the metric's label).
enum class FailoverReason { kOverload, kRateLimit, kTimeout, kConnection, kCircuitOpen, kServerError };
const char* FailoverReasonName(FailoverReason r);
// The reason to fail over on this remote error, or none when the error is the answer (4xx).
std::optional<FailoverReason> FailoverFor(const api::ApiError& e);

// A remote answer streamed by an API client worker, read by the HTTP thread: chunks in arrival
// order, then the end (the assembled response or the error).
class RemoteStream {
 public:
  // Blocks until the first chunk or the end; true when a chunk came first (the stream started,
  // so no failover any more), false when it ended first (see result()).
  bool WaitStarted();
  // The next chunk (blocking); false once the stream has ended and every chunk was read.
  bool Next(api::ChatChunk* chunk);
  // After the end: the response assembled from the stream, or the error.
  const api::ApiResult<api::ChatResponse>& result() const { return *result_; }

 private:
  friend class Endpoint;
  void Push(const api::ChatChunk& c);
  void Finish(api::ApiResult<api::ChatResponse> r);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<api::ChatChunk> chunks_;
  std::optional<api::ApiResult<api::ChatResponse>> result_;
};

class Endpoint {
 public:
  const EndpointSpec& spec() const { return spec_; }
  bool local() const { return local_ != nullptr; }
  ServedModel* local_model() const { return local_; }
  api::ApiClient* client() const { return client_.get(); }
  // Live load: requests admitted (local) or in flight (remote).
  int load() const;
  // A blocking remote chat; counts itself in flight meanwhile. After a rate limit the endpoint
  // cools down (the answer's Retry-After, else 1 s): calls then fail at once as rate limited,
  // so requests move to the next endpoint instead of waiting in the API client's queue.
  api::ApiResult<api::ChatResponse> Chat(api::ChatRequest req);
  // A blocking remote embedding, counted and cooled down the same way.
  api::ApiResult<api::EmbedResponse> Embed(api::EmbedRequest req);
  // The same, streamed: starts the request and returns at once.
  std::shared_ptr<RemoteStream> ChatStream(api::ChatRequest req);

 private:
  friend class Router;
  EndpointSpec spec_;
  ServedModel* local_ = nullptr;
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> cooldown_until_ns_{0};  // steady clock
  std::unique_ptr<api::ApiClient> client_;  // last: destroyed first, its callbacks touch the fields above
  bool CoolingDown(int64_t* now_ns) const;
  void NoteError(const api::ApiError& e, int64_t started_ns);
};

class Router {
 public:
  // Resolves local endpoints in `registry` and creates one API client per remote endpoint.
  static Result<std::unique_ptr<Router>> Create(const std::vector<RouteSpec>& routes, const ModelRegistry& registry);
  bool Has(const std::string& name) const { return routes_.count(name) != 0; }
  std::vector<std::string> Names() const;
  // The endpoints of a route in the order to try them now (priority, then least load).
  std::vector<Endpoint*> Plan(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::unique_ptr<Endpoint>>> routes_;
};

}  // namespace accel::serve
