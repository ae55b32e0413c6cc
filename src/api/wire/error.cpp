#include "api/wire/error.h"

#include "api/wire/http_types.h"
#include "api/wire/types.h"

namespace accel::api {

const char* PriorityName(Priority p) {
  switch (p) {
    case Priority::kHigh: return "high";
    case Priority::kNormal: return "normal";
    case Priority::kLow: return "low";
  }
  return "?";
}

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kRateLimited: return "rate_limited";
    case ErrorClass::kAuth: return "auth";
    case ErrorClass::kBadRequest: return "bad_request";
    case ErrorClass::kNotFound: return "not_found";
    case ErrorClass::kServer: return "server_error";
    case ErrorClass::kTimeout: return "timeout";
    case ErrorClass::kNetwork: return "network";
    case ErrorClass::kProtocol: return "protocol";
    case ErrorClass::kCircuitOpen: return "circuit_open";
    case ErrorClass::kOverloaded: return "overloaded";
    case ErrorClass::kCancelled: return "cancelled";
  }
  return "?";
}

bool IsRetryable(ErrorClass c) {
  switch (c) {
    case ErrorClass::kRateLimited:
    case ErrorClass::kServer:
    case ErrorClass::kTimeout:
    case ErrorClass::kNetwork:
    // kProtocol (malformed JSON, a body over the cap, a TLS peer that fails verification) is not
    // retried: the same request to the same peer fails the same way.
    case ErrorClass::kCircuitOpen:
      return true;
    default:
      return false;
  }
}

bool CountsAsEndpointFailure(ErrorClass c) {
  // 4xx answers mean the endpoint is healthy and the request (or key) is wrong; 429 is
  // handled by per-key cooldowns rather than by taking the whole endpoint out.
  return c == ErrorClass::kServer || c == ErrorClass::kTimeout || c == ErrorClass::kNetwork ||
         c == ErrorClass::kProtocol;
}

std::string ApiError::ToString() const {
  std::string s = ErrorClassName(cls);
  if (http_status > 0) s += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty()) s += ": " + message;
  // One line: a hostile server could put newlines in its error text.
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

Status ApiError::ToStatus() const {
  StatusCode code = StatusCode::kIo;
  if (cls == ErrorClass::kBadRequest) code = StatusCode::kInvalidArgument;
  if (cls == ErrorClass::kNotFound) code = StatusCode::kNotFound;
  if (cls == ErrorClass::kProtocol) code = StatusCode::kCorrupt;
  return Status(code, ToString());
}

const std::string& HttpResponse::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

}  // namespace accel::api
