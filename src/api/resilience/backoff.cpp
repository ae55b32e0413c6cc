#include "api/resilience/backoff.h"

#include <algorithm>
#include <cmath>

namespace accel::api {

double BackoffDelay(const BackoffPolicy& p, int retry, double retry_after_s, std::mt19937_64& rng) {
  double exp = std::min(p.max_s, p.base_s * std::pow(p.multiplier, std::max(0, retry - 1)));
  double jitter = std::clamp(p.jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double delay = exp * (1.0 - jitter) + exp * jitter * u(rng);
  if (retry_after_s >= 0) {
    // Honour the server's floor; add a little spread so clients it told the same thing do
    // not all come back in the same millisecond.
    double spread = std::min(1.0, 0.1 * retry_after_s) * u(rng);
    delay = retry_after_s + spread;
  }
  return delay;
}

}  // namespace accel::api
