#include "api/resilience/circuit_breaker.h"

#include <algorithm>

namespace accel::api {

const char* BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "?";
}

void CircuitBreaker::MaybeHalfOpenLocked(Clock::time_point now) {
  if (state_ == BreakerState::kOpen &&
      now - opened_at_ >= std::chrono::duration<double>(policy_.open_s)) {
    state_ = BreakerState::kHalfOpen;
    probes_in_flight_ = 0;
  }
}

bool CircuitBreaker::Allow() {
  std::lock_guard<std::mutex> lock(mu_);
  MaybeHalfOpenLocked(Clock::now());
  switch (state_) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      if (probes_in_flight_ >= policy_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

double CircuitBreaker::RetryInSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != BreakerState::kOpen) return 0;
  double elapsed = std::chrono::duration<double>(Clock::now() - opened_at_).count();
  return std::max(0.0, policy_.open_s - elapsed);
}

void CircuitBreaker::OnSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  consecutive_failures_ = 0;
  if (state_ == BreakerState::kHalfOpen) {
    state_ = BreakerState::kClosed;
    probes_in_flight_ = 0;
  }
}

void CircuitBreaker::OnFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  ++consecutive_failures_;
  if (state_ == BreakerState::kHalfOpen ||
      (state_ == BreakerState::kClosed && consecutive_failures_ >= policy_.failure_threshold)) {
    state_ = BreakerState::kOpen;
    opened_at_ = Clock::now();
    probes_in_flight_ = 0;
  }
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  const_cast<CircuitBreaker*>(this)->MaybeHalfOpenLocked(Clock::now());
  return state_;
}

}  // namespace accel::api
