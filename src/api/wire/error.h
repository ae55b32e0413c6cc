#pragma once
// Errors of remote calls, classified the same way for every provider so the resilience layer
// can decide "retry, wait, or give up" without knowing who answered.
#include <map>
#include <string>
#include <utility>
#include <variant>

#include "core/status.h"

namespace accel::api {

enum class ErrorClass {
  kRateLimited,  // 429 or provider "overloaded/quota" answers: retry after a wait
  kAuth,         // 401/403: a bad or missing key
  kBadRequest,   // 400/413/422, or a request we refused to build
  kNotFound,     // 404: model or route unknown
  kServer,       // 5xx
  kTimeout,      // 408, or the configured deadline passed
  kNetwork,      // connect refused, reset, truncated transfer
  kProtocol,     // the peer answered something we cannot parse or trust (malformed JSON, cut
                 // stream, body over the cap, TLS verification failure): not retried
  kCircuitOpen,  // no endpoint accepts traffic right now
  kOverloaded,   // our own queue is full
  kCancelled,    // the client shut down before the request ran
};
inline constexpr int kNumErrorClasses = 11;
const char* ErrorClassName(ErrorClass c);

// Whether trying again (possibly elsewhere, possibly later) can help.
bool IsRetryable(ErrorClass c);
// Whether this error counts against an endpoint's health (circuit breaker).
bool CountsAsEndpointFailure(ErrorClass c);

struct ApiError {
  ErrorClass cls = ErrorClass::kServer;
  int http_status = 0;         // 0 when no HTTP answer
  double retry_after_s = -1;   // from Retry-After / rate-limit headers; <0 when absent
  std::string message;

  std::string ToString() const;  // "rate_limited (HTTP 429): ..." — one line
  Status ToStatus() const;
};

inline ApiError MakeError(ErrorClass c, std::string message, int http_status = 0) {
  ApiError e;
  e.cls = c;
  e.message = std::move(message);
  e.http_status = http_status;
  return e;
}

// A value or a classified error. Like Result<T>, but the error keeps its class for retries.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const ApiError& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace accel::api
