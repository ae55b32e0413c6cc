#pragma once
// Choosing among several endpoints of a provider, and among several API keys. Both pick
// round-robin or least-loaded (fewest requests in flight) among the candidates that may take
// traffic now: endpoints whose breaker allows it, keys that are not cooling down after a 429
// and still have rate budget.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/resilience/circuit_breaker.h"

namespace accel::api {

enum class RouteStrategy { kRoundRobin, kLeastLoaded };

// A pick: an index, or how long to wait before anything is free.
struct Pick {
  int index = -1;
  double wait_s = 0;
};

class EndpointPool {
 public:
  EndpointPool(std::vector<std::string> urls, RouteStrategy strategy, BreakerPolicy breaker);
  Pick Acquire();
  // `endpoint_failure`: the attempt failed in a way that counts against the endpoint.
  void Release(int index, bool endpoint_failure);
  const std::string& url(int index) const { return endpoints_[index]->url; }
  size_t size() const { return endpoints_.size(); }
  BreakerState breaker_state(int index) const { return endpoints_[index]->breaker.state(); }

 private:
  struct Endpoint {
    std::string url;
    CircuitBreaker breaker;
    int in_flight = 0;
    Endpoint(std::string u, BreakerPolicy p) : url(std::move(u)), breaker(p) {}
  };
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  RouteStrategy strategy_;
  std::mutex mu_;
  size_t cursor_ = 0;
};

struct ApiKeySpec {
  std::string label;           // printable name ("key0"); the secret is never printed
  std::string secret;
  double requests_per_s = 0;   // this key's own rate limit; 0 = none
};

class KeyPool {
 public:
  using Clock = std::chrono::steady_clock;
  // An empty list stands for one key with no secret (servers without auth).
  KeyPool(std::vector<ApiKeySpec> keys, RouteStrategy strategy);
  Pick Acquire();
  // `cooldown_s` > 0 after a 429: the key sits out that long.
  void Release(int index, double cooldown_s);
  const ApiKeySpec& key(int index) const { return keys_[index].spec; }
  size_t size() const { return keys_.size(); }

 private:
  struct Key {
    ApiKeySpec spec;
    int in_flight = 0;
    double tokens = 1;  // token bucket for requests_per_s
    Clock::time_point refilled{};
    Clock::time_point cooldown_until{};
  };
  double WaitForLocked(Key& k, Clock::time_point now);
  std::vector<Key> keys_;
  RouteStrategy strategy_;
  std::mutex mu_;
  size_t cursor_ = 0;
};

}  // namespace accel::api
