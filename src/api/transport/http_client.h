#pragma once
// HTTP over libcurl. One easy handle per thread is kept and reused so keep-alive connections
// (and TLS sessions) survive between requests; nothing is shared across threads.
#include <cstddef>
#include <functional>
#include <string_view>

#include "api/wire/error.h"
#include "api/wire/http_types.h"

namespace accel::api {

struct HttpOptions {
  int timeout_ms = 120000;         // whole transfer, streaming included
  int connect_timeout_ms = 10000;
  size_t max_response_bytes = 64u << 20;  // bodies past this abort as kProtocol
  bool verify_tls = true;          // on by default; only a test against a self-signed server turns it off
};

// Receives body bytes of a 2xx answer as they arrive; return false to stop the transfer.
using BodySink = std::function<bool(std::string_view bytes)>;

// Sends `request`. Transport failures come back as kNetwork/kTimeout/kProtocol errors; any
// HTTP answer (including 4xx/5xx) is a value with its status. With a sink, a 2xx body is
// streamed to it instead of being kept in the response. Redirects are never followed.
ApiResult<HttpResponse> HttpSend(const HttpRequest& request, const HttpOptions& options,
                                 const BodySink* sink = nullptr);

}  // namespace accel::api
