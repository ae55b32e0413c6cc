#include "api/transport/http_client.h"

#include <cstdlib>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace accel::api {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// The calling thread's handle: reusing it keeps its connection cache warm.
CURL* ThreadHandle() {
  thread_local std::unique_ptr<CURL, EasyDeleter> handle;
  if (!handle) {
    GlobalInitOnce();
    handle.reset(curl_easy_init());
  } else {
    curl_easy_reset(handle.get());  // clears options, keeps connections
  }
  return handle.get();
}

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  size_t max_bytes = 0;
  size_t received = 0;
  bool too_large = false;
  bool sink_stopped = false;
  long status = -1;  // read lazily: known once the headers are done
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (e.g. after 100-continue)
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  t->response->headers[name] = std::string(value);
  return len;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  t->received += len;
  if (t->received > t->max_bytes) {
    t->too_large = true;
    return 0;  // abort: CURLE_WRITE_ERROR
  }
  if (t->status < 0) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
  bool success = t->status >= 200 && t->status < 300;
  if (t->sink && success) {
    if (!(*t->sink)(std::string_view(data, len))) {
      t->sink_stopped = true;
      return 0;
    }
    return len;
  }
  t->response->body.append(data, len);
  return len;
}

ErrorClass ClassOfCurlError(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return ErrorClass::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return ErrorClass::kBadRequest;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
      return ErrorClass::kProtocol;  // a certificate problem does not go away on retry
    default: return ErrorClass::kNetwork;
  }
}

}  // namespace

ApiResult<HttpResponse> HttpSend(const HttpRequest& request, const HttpOptions& options, const BodySink* sink) {
  CURL* curl = ThreadHandle();
  if (!curl) return MakeError(ErrorClass::kNetwork, "libcurl could not create a handle");
  HttpResponse response;
  Transfer t;
  t.curl = curl;
  t.response = &response;
  t.sink = sink;
  t.max_bytes = options.max_response_bytes;

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // The path goes out exactly as built (and signed): no "/../" or "/./" squashing, so an S3 key
  // "../x" names that object instead of another path on the server.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  int timeout_ms = options.timeout_ms;
  if (request.timeout_ms > 0 && (timeout_ms <= 0 || request.timeout_ms < timeout_ms)) timeout_ms = request.timeout_ms;
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  // A private CA: SSL_CERT_FILE (OpenSSL's variable) or CURL_CA_BUNDLE (curl's) names the bundle.
  const char* ca = std::getenv("SSL_CERT_FILE");
  if (!ca || !*ca) ca = std::getenv("CURL_CA_BUNDLE");
  if (ca && *ca) curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate/br as built
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);

  struct curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for bodies
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);

  if (t.too_large)
    return MakeError(ErrorClass::kProtocol, "response larger than " + std::to_string(options.max_response_bytes) + " bytes");
  if (t.sink_stopped) return response;  // the consumer had what it needed
  if (rc != CURLE_OK) {
    ApiError e = MakeError(ClassOfCurlError(rc), std::string(curl_easy_strerror(rc)) + " (" + request.method + " " + request.url + ")");
    e.http_status = response.status;
    return e;
  }
  return response;
}

}  // namespace accel::api
