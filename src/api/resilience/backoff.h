#pragma once
// Exponential backoff with jitter that never waits less than the server asked for.
#include <random>

namespace accel::api {

struct BackoffPolicy {
  int max_retries = 4;            // attempts after the first
  double base_s = 0.2;            // first retry waits about this long
  double multiplier = 2.0;
  double max_s = 20.0;            // cap of the exponential part
  double jitter = 0.5;            // fraction of the delay drawn at random (spreads thundering herds)
  double max_retry_after_s = 120; // a server asking for a longer wait makes the error final
};

// Seconds to wait before retry number `retry` (1-based). `retry_after_s` >= 0 is a floor
// from Retry-After / rate-limit headers.
double BackoffDelay(const BackoffPolicy& policy, int retry, double retry_after_s, std::mt19937_64& rng);

}  // namespace accel::api
