#pragma once
// Per-API-key request rate limits: one token bucket per key, refilled continuously at N per
// minute and holding at most N (a client may spend a minute's worth at once, then waits).
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace accel::serve {

class KeyRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `keys`: how many keys there are; `per_minute` <= 0 disables the limit.
  KeyRateLimiter(size_t keys, double per_minute);

  // Takes one request from key `key`'s bucket: 0 when it may go ahead, else the whole seconds
  // (>= 1) until the bucket holds one again (the Retry-After to send).
  int TryTake(size_t key, Clock::time_point now = Clock::now());
  bool enabled() const { return per_minute_ > 0; }

 private:
  struct Bucket {
    double tokens;
    std::optional<Clock::time_point> refilled;  // unset until the key's first request
  };
  double per_minute_;
  std::mutex mu_;
  std::vector<Bucket> buckets_;
};

}  // namespace accel::serve
