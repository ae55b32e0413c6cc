#include "serve/key_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace accel::serve {

KeyRateLimiter::KeyRateLimiter(size_t keys, double per_minute)
    : per_minute_(per_minute), buckets_(keys, Bucket{std::max(per_minute, 0.0), std::nullopt}) {}

int KeyRateLimiter::TryTake(size_t key, Clock::time_point now) {
  if (!enabled() || key >= buckets_.size()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = buckets_[key];
  const double minutes = b.refilled ? std::chrono::duration<double>(now - *b.refilled).count() / 60.0 : 0.0;
  if (minutes > 0) b.tokens = std::min(per_minute_, b.tokens + minutes * per_minute_);
  if (!b.refilled || minutes > 0) b.refilled = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait_s = (1.0 - b.tokens) * 60.0 / per_minute_;
  return std::max(1, static_cast<int>(std::ceil(wait_s)));
}

}  // namespace accel::serve
