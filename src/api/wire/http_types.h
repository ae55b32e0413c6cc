#pragma once
// Plain HTTP request/response values: what providers build and parse. No transport here, so
// providers (and their fuzz targets) stay free of libcurl.
#include <map>
#include <string>
#include <vector>

namespace accel::api {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int timeout_ms = 0;  // > 0: this attempt's share of the request deadline (caps HttpOptions.timeout_ms)
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;

  // The header's value, or "" when absent; `name` must be lower-case.
  const std::string& Header(const std::string& name) const;
};

}  // namespace accel::api
