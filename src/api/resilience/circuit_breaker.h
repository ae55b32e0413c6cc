#pragma once
// Per-endpoint circuit breaker: closed (traffic flows) -> open after N consecutive failures
// (traffic refused for open_s) -> half-open (a few probes) -> closed on probe success, open
// again on probe failure. Thread-safe.
#include <chrono>
#include <mutex>

namespace accel::api {

struct BreakerPolicy {
  int failure_threshold = 5;  // consecutive endpoint failures that open the circuit
  double open_s = 10.0;       // how long it stays open before probing
  int half_open_probes = 1;   // concurrent probes allowed while half-open
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* BreakerStateName(BreakerState s);

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreaker(BreakerPolicy policy = {}) : policy_(policy) {}

  // Whether a request may go now; a true answer in half-open reserves a probe slot, which the
  // matching OnSuccess/OnFailure returns.
  bool Allow();
  // Seconds until Allow() may say yes again (0 when it would now).
  double RetryInSeconds() const;
  void OnSuccess();
  void OnFailure();
  BreakerState state() const;

 private:
  void MaybeHalfOpenLocked(Clock::time_point now);
  BreakerPolicy policy_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_failures_ = 0;
  int probes_in_flight_ = 0;
  Clock::time_point opened_at_{};
};

}  // namespace accel::api
