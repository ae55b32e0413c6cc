#include "api/s3/s3_client.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

namespace accel::api::s3 {
namespace {

// "http://host:port/base" -> {"host:port", "/base"}.
void SplitEndpoint(const std::string& url, std::string* host, std::string* base_path) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t slash = url.find('/', start);
  *host = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  *base_path = slash == std::string::npos ? "" : url.substr(slash);
}

bool ValidEndpoint(const std::string& url) {
  return (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) && url.size() > 8;
}

}  // namespace

SigV4Credentials CredentialsFromEnv() {
  SigV4Credentials c;
  if (const char* v = std::getenv("AWS_ACCESS_KEY_ID")) c.access_key_id = v;
  if (const char* v = std::getenv("AWS_SECRET_ACCESS_KEY")) c.secret_access_key = v;
  if (const char* v = std::getenv("AWS_REGION")) c.region = v;
  return c;
}

Result<std::unique_ptr<S3Client>> S3Client::Create(S3Config config) {
  if (config.endpoints.empty()) return InvalidArgument("S3 needs at least one endpoint URL");
  for (const auto& e : config.endpoints)
    if (!ValidEndpoint(e)) return InvalidArgument("S3 endpoint '" + e + "' is not an http:// or https:// URL");
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty())
    return InvalidArgument("S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  if (config.part_size == 0) return InvalidArgument("S3 multipart part size must be positive");
  config.credentials.service = "s3";
  return std::unique_ptr<S3Client>(new S3Client(std::move(config)));
}

S3Client::S3Client(S3Config config)
    : config_(std::move(config)), endpoints_(config_.endpoints, config_.strategy, config_.breaker) {}

ApiResult<HttpResponse> S3Client::Send(const std::string& method, const std::string& bucket, const std::string& key,
                                       const Query& query, const std::string& body,
                                       std::vector<std::pair<std::string, std::string>> extra_headers) {
  if (bucket.empty()) return MakeError(ErrorClass::kBadRequest, "S3 bucket name is empty");
  std::string object_path = "/" + UriEncode(bucket, false) + (key.empty() ? "" : "/" + UriEncode(key, true));
  std::string query_string;
  for (const auto& [k, v] : query)
    query_string += (query_string.empty() ? "?" : "&") + UriEncode(k, false) + "=" + UriEncode(v, false);
  std::string payload_hash = Sha256Hex(body);
  ApiError last = MakeError(ErrorClass::kCircuitOpen, "no S3 endpoint accepts traffic");
  for (int attempt = 0; attempt <= config_.backoff.max_retries; ++attempt) {
    if (attempt > 0) {
      double delay;
      {
        std::lock_guard<std::mutex> lock(rng_mu_);
        delay = BackoffDelay(config_.backoff, attempt, last.retry_after_s, rng_);
      }
      if (last.retry_after_s > config_.backoff.max_retry_after_s) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    }
    Pick pick = endpoints_.Acquire();
    if (pick.index < 0) {
      last = MakeError(ErrorClass::kCircuitOpen, "every S3 endpoint's circuit breaker is open");
      last.retry_after_s = pick.wait_s;
      continue;
    }
    std::string host, base_path;
    SplitEndpoint(endpoints_.url(pick.index), &host, &base_path);
    SigV4Request sig;
    sig.method = method;
    sig.path = base_path + object_path;
    sig.query = query;
    sig.payload_sha256 = payload_hash;
    std::string amz_date = AmzDate(std::time(nullptr));
    sig.headers = {{"host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", amz_date}};
    for (const auto& h : extra_headers) sig.headers.push_back(h);
    SigV4Parts signed_parts = SignV4(sig, config_.credentials, amz_date);

    HttpRequest req;
    req.method = method;
    req.url = endpoints_.url(pick.index) + object_path + query_string;
    req.headers = sig.headers;
    req.headers.emplace_back("Authorization", signed_parts.authorization);
    req.body = body;
    ApiResult<HttpResponse> r = HttpSend(req, config_.http);
    if (r.ok() && r->status >= 200 && r->status < 300) {
      endpoints_.Release(pick.index, false);
      return r;
    }
    last = r.ok() ? ClassifyS3Error(r.value()) : r.error();
    last.message += " (" + method + " " + endpoints_.url(pick.index) + object_path + ")";
    endpoints_.Release(pick.index, CountsAsEndpointFailure(last.cls));
    if (!IsRetryable(last.cls)) return last;
  }
  return last;
}

ApiResult<S3Object> S3Client::Get(const std::string& bucket, const std::string& key) {
  auto r = Send("GET", bucket, key, {}, "");
  if (!r.ok()) return r.error();
  return S3Object{std::move(r->body), r->Header("etag"), r->Header("content-type")};
}

ApiResult<ObjectInfo> S3Client::Head(const std::string& bucket, const std::string& key) {
  auto r = Send("HEAD", bucket, key, {}, "");
  if (!r.ok()) return r.error();
  ObjectInfo info;
  info.key = key;
  info.etag = r->Header("etag");
  info.last_modified = r->Header("last-modified");
  const std::string& len = r->Header("content-length");
  char* end = nullptr;
  info.size = std::strtoull(len.c_str(), &end, 10);
  if (len.empty() || *end != '\0') return MakeError(ErrorClass::kProtocol, "S3 HEAD answer without a numeric Content-Length");
  return info;
}

ApiResult<std::string> S3Client::Put(const std::string& bucket, const std::string& key, const std::string& body) {
  if (key.empty()) return MakeError(ErrorClass::kBadRequest, "S3 object key is empty");
  auto r = Send("PUT", bucket, key, {}, body, {{"content-type", "application/octet-stream"}});
  if (!r.ok()) return r.error();
  return r->Header("etag");
}

ApiResult<bool> S3Client::Delete(const std::string& bucket, const std::string& key) {
  auto r = Send("DELETE", bucket, key, {}, "");
  if (!r.ok()) return r.error();
  return true;
}

ApiResult<std::vector<ObjectInfo>> S3Client::List(const std::string& bucket, const std::string& prefix, int page_size) {
  constexpr int kMaxListPages = 100000;     // 100 million keys at the default page size
  constexpr int kMaxEmptyListPages = 16;    // truncated pages without a single key
  std::vector<ObjectInfo> all;
  std::string token;
  int empty_pages = 0;
  for (int page = 0;; ++page) {
    Query q = {{"list-type", "2"}, {"max-keys", std::to_string(page_size)}};
    if (!prefix.empty()) q.emplace_back("prefix", prefix);
    if (!token.empty()) q.emplace_back("continuation-token", token);
    auto r = Send("GET", bucket, "", q, "");
    if (!r.ok()) return r.error();
    auto parsed = ParseListObjectsV2(r->body);
    if (!parsed.ok()) return parsed.error();
    for (auto& o : parsed->objects) all.push_back(std::move(o));
    if (!parsed->truncated) return all;
    if (parsed->next_token == token)  // a server repeating its token would loop forever
      return MakeError(ErrorClass::kProtocol, "S3 list repeated continuation token");
    // Nor may a server handing out fresh tokens for ever (or empty pages) keep us listing.
    empty_pages = parsed->objects.empty() ? empty_pages + 1 : 0;
    if (page + 1 >= kMaxListPages || empty_pages >= kMaxEmptyListPages)
      return MakeError(ErrorClass::kProtocol, "S3 list did not end after " + std::to_string(page + 1) + " pages (" +
                                                  std::to_string(empty_pages) + " empty in a row)");
    token = parsed->next_token;
  }
}

ApiResult<std::string> S3Client::PutMultipart(const std::string& bucket, const std::string& key, const std::string& body) {
  if (key.empty()) return MakeError(ErrorClass::kBadRequest, "S3 object key is empty");
  auto init = Send("POST", bucket, key, {{"uploads", ""}}, "", {{"content-type", "application/octet-stream"}});
  if (!init.ok()) return init.error();
  auto upload_id = ParseInitiateMultipartUpload(init->body);
  if (!upload_id.ok()) return upload_id.error();
  auto abort = [&](ApiError why) -> ApiError {
    auto a = Send("DELETE", bucket, key, {{"uploadId", upload_id.value()}}, "");
    if (!a.ok()) why.message += "; aborting the upload failed too: " + a.error().message;
    else why.message += " (multipart upload aborted)";
    return why;
  };
  std::vector<std::string> etags;
  for (size_t offset = 0, part = 1; offset < body.size() || part == 1; offset += config_.part_size, ++part) {
    std::string chunk = body.substr(offset, config_.part_size);
    auto r = Send("PUT", bucket, key, {{"partNumber", std::to_string(part)}, {"uploadId", upload_id.value()}}, chunk,
                  {{"content-type", "application/octet-stream"}});
    if (!r.ok()) return abort(r.error());
    if (r->Header("etag").empty()) return abort(MakeError(ErrorClass::kProtocol, "S3 part answer without an ETag"));
    etags.push_back(r->Header("etag"));
    if (body.empty()) break;
  }
  auto done = Send("POST", bucket, key, {{"uploadId", upload_id.value()}}, BuildCompleteMultipartUpload(etags),
                   {{"content-type", "application/xml"}});
  if (!done.ok()) return abort(done.error());
  if (BodyIsError(done->body)) {
    HttpResponse as_error = done.value();
    return abort(ClassifyS3Error(as_error));
  }
  std::string etag = CompletedETag(done->body);
  return etag.empty() ? done->Header("etag") : etag;
}

ApiResult<std::string> S3Client::PutAuto(const std::string& bucket, const std::string& key, const std::string& body) {
  return body.size() > config_.multipart_threshold ? PutMultipart(bucket, key, body) : Put(bucket, key, body);
}

}  // namespace accel::api::s3
