#include "api/resilience/routing.h"

#include <algorithm>
#include <limits>

namespace accel::api {
namespace {

// Order in which to try candidates: round-robin starts after the last pick; least-loaded
// sorts by in-flight count (ties broken round-robin so equal loads still spread).
template <typename LoadFn>
std::vector<size_t> CandidateOrder(size_t n, size_t cursor, RouteStrategy s, LoadFn load) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = (cursor + i) % n;
  if (s == RouteStrategy::kLeastLoaded)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return load(a) < load(b); });
  return order;
}

}  // namespace

EndpointPool::EndpointPool(std::vector<std::string> urls, RouteStrategy strategy, BreakerPolicy breaker)
    : strategy_(strategy) {
  for (auto& u : urls) {
    while (!u.empty() && u.back() == '/') u.pop_back();
    endpoints_.push_back(std::make_unique<Endpoint>(std::move(u), breaker));
  }
}

Pick EndpointPool::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  auto order = CandidateOrder(endpoints_.size(), cursor_, strategy_, [&](size_t i) { return endpoints_[i]->in_flight; });
  double wait = std::numeric_limits<double>::max();
  for (size_t i : order) {
    Endpoint& e = *endpoints_[i];
    if (e.breaker.Allow()) {
      ++e.in_flight;
      cursor_ = i + 1;
      return Pick{static_cast<int>(i), 0};
    }
    wait = std::min(wait, e.breaker.RetryInSeconds());
  }
  return Pick{-1, std::max(wait, 0.001)};
}

void EndpointPool::Release(int index, bool endpoint_failure) {
  Endpoint& e = *endpoints_[index];
  {
    std::lock_guard<std::mutex> lock(mu_);
    --e.in_flight;
  }
  if (endpoint_failure) e.breaker.OnFailure();
  else e.breaker.OnSuccess();
}

KeyPool::KeyPool(std::vector<ApiKeySpec> keys, RouteStrategy strategy) : strategy_(strategy) {
  if (keys.empty()) keys.push_back(ApiKeySpec{"nokey", "", 0});
  auto now = Clock::now();
  for (auto& k : keys) {
    Key key;
    key.spec = std::move(k);
    key.tokens = std::max(1.0, key.spec.requests_per_s);
    key.refilled = now;
    keys_.push_back(std::move(key));
  }
}

double KeyPool::WaitForLocked(Key& k, Clock::time_point now) {
  if (now < k.cooldown_until) return std::chrono::duration<double>(k.cooldown_until - now).count();
  if (k.spec.requests_per_s <= 0) return 0;
  double burst = std::max(1.0, k.spec.requests_per_s);
  double elapsed = std::chrono::duration<double>(now - k.refilled).count();
  k.tokens = std::min(burst, k.tokens + elapsed * k.spec.requests_per_s);
  k.refilled = now;
  if (k.tokens >= 1) return 0;
  return (1 - k.tokens) / k.spec.requests_per_s;
}

Pick KeyPool::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  auto order = CandidateOrder(keys_.size(), cursor_, strategy_, [&](size_t i) { return keys_[i].in_flight; });
  double wait = std::numeric_limits<double>::max();
  for (size_t i : order) {
    Key& k = keys_[i];
    double w = WaitForLocked(k, now);
    if (w <= 0) {
      if (k.spec.requests_per_s > 0) k.tokens -= 1;
      ++k.in_flight;
      cursor_ = i + 1;
      return Pick{static_cast<int>(i), 0};
    }
    wait = std::min(wait, w);
  }
  return Pick{-1, std::max(wait, 0.001)};
}

void KeyPool::Release(int index, double cooldown_s) {
  std::lock_guard<std::mutex> lock(mu_);
  Key& k = keys_[index];
  --k.in_flight;
  if (cooldown_s > 0) {
    auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cooldown_s));
    k.cooldown_until = std::max(k.cooldown_until, until);
  }
}

}  // namespace accel::api
