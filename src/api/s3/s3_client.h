#pragma once
// S3-compatible object storage: GET, PUT, HEAD, LIST (ListObjectsV2 with continuation
// tokens) and multipart upload, signed with SigV4 and addressed path-style
// ({endpoint}/{bucket}/{key}) so self-hosted servers work. Several endpoints are spread with
// the API layer's EndpointPool (round-robin or least-loaded, a circuit breaker each);
// retryable failures go to the next endpoint after the shared backoff.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "api/resilience/backoff.h"
#include "api/resilience/routing.h"
#include "api/s3/s3_xml.h"
#include "api/s3/sigv4.h"
#include "api/transport/http_client.h"
#include "core/status.h"

namespace accel::api::s3 {

struct S3Config {
  std::vector<std::string> endpoints;                  // "http://127.0.0.1:9000", ...
  RouteStrategy strategy = RouteStrategy::kRoundRobin;
  SigV4Credentials credentials;                        // service stays "s3"
  HttpOptions http;
  BackoffPolicy backoff;
  BreakerPolicy breaker;
  size_t part_size = 8u << 20;          // multipart part size (S3 needs >= 5 MiB except the last)
  size_t multipart_threshold = 64u << 20;  // PutAuto switches to multipart above this
};

struct S3Object {
  std::string body;
  std::string etag;
  std::string content_type;
};

// Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_REGION when set).
SigV4Credentials CredentialsFromEnv();

class S3Client {
 public:
  static Result<std::unique_ptr<S3Client>> Create(S3Config config);

  ApiResult<S3Object> Get(const std::string& bucket, const std::string& key);
  ApiResult<ObjectInfo> Head(const std::string& bucket, const std::string& key);
  ApiResult<std::string> Put(const std::string& bucket, const std::string& key, const std::string& body);  // ETag
  // Every object under `prefix`, following continuation tokens page by page.
  ApiResult<std::vector<ObjectInfo>> List(const std::string& bucket, const std::string& prefix, int page_size = 1000);
  // Initiate, upload parts of config.part_size, complete; on any failure the upload is aborted.
  ApiResult<std::string> PutMultipart(const std::string& bucket, const std::string& key, const std::string& body);
  // Put, or PutMultipart past config.multipart_threshold.
  ApiResult<std::string> PutAuto(const std::string& bucket, const std::string& key, const std::string& body);
  ApiResult<bool> Delete(const std::string& bucket, const std::string& key);

  EndpointPool& endpoints() { return endpoints_; }

 private:
  explicit S3Client(S3Config config);
  using Query = std::vector<std::pair<std::string, std::string>>;
  // One signed request with retries across endpoints; a 2xx answer is the value.
  ApiResult<HttpResponse> Send(const std::string& method, const std::string& bucket, const std::string& key,
                               const Query& query, const std::string& body,
                               std::vector<std::pair<std::string, std::string>> extra_headers = {});

  S3Config config_;
  EndpointPool endpoints_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace accel::api::s3
