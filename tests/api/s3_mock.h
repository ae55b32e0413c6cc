#pragma once
// An in-memory S3 on loopback (the MockServer's cpp-httplib server): buckets, objects,
// ListObjectsV2 pages with continuation tokens, multipart uploads. Every request's SigV4
// signature is re-derived here from the raw request target, the headers it names and the
// secret; a mismatch answers 403 SignatureDoesNotMatch as S3 does. Tests can inject answers
// (e.g. 503 SlowDown) before the store sees a request.
#include <pugixml.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

#include "api/s3/sigv4.h"
#include "mock_server.h"

namespace accel::test {

class S3Mock {
 public:
  using Fault = std::function<std::optional<MockReply>(const MockRequest&)>;

  S3Mock(std::string access_key, std::string secret, std::string region = "us-east-1")
      : access_key_(std::move(access_key)), secret_(std::move(secret)), region_(std::move(region)) {
    server_.KeepRequests(false);
    // Connection: close — the client's thread-local curl handle would otherwise hold a
    // keep-alive connection that makes the server's shutdown wait out its keep-alive timeout.
    server_.HandleAny([this](const MockRequest& r) {
      MockReply reply = Serve(r);
      reply.headers.emplace_back("Connection", "close");
      return reply;
    });
  }

  std::string url() const { return server_.url(); }
  void AddBucket(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_[name];
  }
  void SetFault(Fault f) {
    std::lock_guard<std::mutex> lock(mu_);
    fault_ = std::move(f);
  }
  std::optional<std::string> Object(const std::string& bucket, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = buckets_.find(bucket);
    if (b == buckets_.end() || !b->second.count(key)) return std::nullopt;
    return b->second[key].data;
  }
  size_t OpenUploads() {
    std::lock_guard<std::mutex> lock(mu_);
    return uploads_.size();
  }
  int requests() const { return requests_; }
  int bad_signatures() const { return bad_signatures_; }
  // Requests per method ("PUT" -> 3), and multipart parts received.
  int count(const std::string& method) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_method_[method];
  }

 private:
  struct Stored {
    std::string data, etag, content_type;
  };
  struct Upload {
    std::string bucket, key;
    std::map<int, Stored> parts;
  };

  static MockReply Xml(int status, const std::string& body) {
    MockReply r;
    r.status = status;
    r.content_type = "application/xml";
    r.body = body;
    return r;
  }
  static MockReply Error(int status, const std::string& code, const std::string& message) {
    return Xml(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + message +
                           "</Message></Error>");
  }
  static std::string ETagOf(const std::string& data) {
    return "\"" + api::s3::Sha256Hex(data).substr(0, 32) + "\"";
  }

  // Re-derives the signature from what arrived; empty when it matches, else the reason.
  std::string VerifySignature(const MockRequest& r, const std::string& raw_path,
                              const std::vector<std::pair<std::string, std::string>>& query) {
    auto auth = api::s3::ParseAuthorization(r.Header("Authorization"));
    if (!auth.ok) return "missing or malformed Authorization";
    if (auth.access_key_id != access_key_) return "unknown access key";
    if (auth.region != region_ || auth.service != "s3") return "wrong credential scope";
    std::string amz_date = r.Header("x-amz-date");
    if (amz_date.substr(0, 8) != auth.date) return "x-amz-date does not match the credential date";
    std::string payload = r.Header("x-amz-content-sha256");
    if (payload != api::s3::Sha256Hex(r.body)) return "x-amz-content-sha256 does not match the body";
    if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") == auth.signed_headers.end())
      return "host is not signed";
    api::s3::SigV4Request sig;
    sig.method = r.method;
    sig.path = raw_path;
    sig.query = query;
    sig.payload_sha256 = payload;
    for (const auto& name : auth.signed_headers) sig.headers.emplace_back(name, r.Header(name));
    api::s3::SigV4Credentials creds{access_key_, secret_, region_, "s3"};
    if (api::s3::SignV4(sig, creds, amz_date).signature != auth.signature) return "signature mismatch";
    return "";
  }

  MockReply Serve(const MockRequest& r) {
    ++requests_;
    std::string raw_path = r.target.substr(0, r.target.find('?'));
    std::vector<std::pair<std::string, std::string>> query;
    std::map<std::string, std::string> params;
    if (size_t q = r.target.find('?'); q != std::string::npos) {
      std::stringstream ss(r.target.substr(q + 1));
      for (std::string item; std::getline(ss, item, '&');) {
        size_t eq = item.find('=');
        std::string k = api::s3::UriDecode(item.substr(0, eq));
        std::string v = eq == std::string::npos ? "" : api::s3::UriDecode(item.substr(eq + 1));
        query.emplace_back(k, v);
        params[k] = v;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++by_method_[r.method];
    if (fault_)
      if (auto injected = fault_(r)) return *injected;
    if (std::string why = VerifySignature(r, raw_path, query); !why.empty()) {
      ++bad_signatures_;
      return Error(403, "SignatureDoesNotMatch", why);
    }
    // Path-style: /bucket[/key...]
    std::string path = api::s3::UriDecode(raw_path);
    size_t slash = path.find('/', 1);
    std::string bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    std::string key = slash == std::string::npos ? "" : path.substr(slash + 1);
    auto b = buckets_.find(bucket);
    if (b == buckets_.end()) return Error(404, "NoSuchBucket", "The specified bucket does not exist");
    auto& objects = b->second;

    if (key.empty()) {
      if (r.method != "GET" || params["list-type"] != "2") return Error(400, "InvalidArgument", "only ListObjectsV2");
      return List(objects, params);
    }
    if (params.count("uploads") && r.method == "POST") {
      std::string id = "upload-" + std::to_string(++next_upload_);
      uploads_[id] = Upload{bucket, key, {}};
      return Xml(200, "<InitiateMultipartUploadResult><Bucket>" + bucket + "</Bucket><Key>" + key +
                          "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
    }
    if (params.count("uploadId")) {
      auto u = uploads_.find(params["uploadId"]);
      if (u == uploads_.end()) return Error(404, "NoSuchUpload", "The specified upload does not exist");
      if (r.method == "PUT") {
        int n = std::atoi(params["partNumber"].c_str());
        if (n < 1 || n > 10000) return Error(400, "InvalidArgument", "partNumber");
        u->second.parts[n] = Stored{r.body, ETagOf(r.body), ""};
        MockReply ok = Xml(200, "");
        ok.headers = {{"ETag", ETagOf(r.body)}};
        return ok;
      }
      if (r.method == "DELETE") {
        uploads_.erase(u);
        return Xml(204, "");
      }
      if (r.method == "POST") return Complete(objects, u, r.body);
    }
    if (r.method == "PUT") {
      objects[key] = Stored{r.body, ETagOf(r.body), r.Header("Content-Type")};
      MockReply ok = Xml(200, "");
      ok.headers = {{"ETag", objects[key].etag}};
      return ok;
    }
    auto o = objects.find(key);
    if (r.method == "DELETE") {
      if (o != objects.end()) objects.erase(o);
      return Xml(204, "");
    }
    if (o == objects.end()) return Error(404, "NoSuchKey", "The specified key does not exist.");
    MockReply ok;
    ok.content_type = o->second.content_type.empty() ? "binary/octet-stream" : o->second.content_type;
    ok.body = o->second.data;
    ok.headers = {{"ETag", o->second.etag}};
    return ok;
  }

  MockReply List(const std::map<std::string, Stored>& objects, std::map<std::string, std::string>& params) {
    int max_keys = params.count("max-keys") ? std::atoi(params["max-keys"].c_str()) : 1000;
    if (max_keys <= 0) max_keys = 1000;
    const std::string& prefix = params["prefix"];
    std::string after;  // the token is "after:<last key of the previous page>"
    if (params.count("continuation-token")) {
      const std::string& t = params["continuation-token"];
      if (t.rfind("after:", 0) != 0) return Error(400, "InvalidArgument", "The continuation token provided is incorrect");
      after = t.substr(6);
    }
    pugi::xml_document doc;
    pugi::xml_node root = doc.append_child("ListBucketResult");
    int n = 0;
    std::string last;
    bool truncated = false;
    for (auto it = after.empty() ? objects.begin() : objects.upper_bound(after); it != objects.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) continue;
      if (n == max_keys) {
        truncated = true;
        break;
      }
      pugi::xml_node c = root.append_child("Contents");
      c.append_child("Key").text().set(it->first.c_str());
      c.append_child("Size").text().set(static_cast<unsigned long long>(it->second.data.size()));
      c.append_child("ETag").text().set(it->second.etag.c_str());
      c.append_child("LastModified").text().set("2026-01-01T00:00:00.000Z");
      last = it->first;
      ++n;
    }
    root.append_child("KeyCount").text().set(n);
    root.append_child("IsTruncated").text().set(truncated ? "true" : "false");
    if (truncated) root.append_child("NextContinuationToken").text().set(("after:" + last).c_str());
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw);
    return Xml(200, out.str());
  }

  MockReply Complete(std::map<std::string, Stored>& objects, std::map<std::string, Upload>::iterator u, const std::string& body) {
    pugi::xml_document doc;
    if (!doc.load_string(body.c_str())) return Error(400, "MalformedXML", "body is not XML");
    std::string data;
    int expected = 1;
    for (pugi::xml_node p : doc.child("CompleteMultipartUpload").children("Part")) {
      int n = p.child("PartNumber").text().as_int();
      if (n != expected++) return Error(400, "InvalidPartOrder", "parts out of order");
      auto part = u->second.parts.find(n);
      if (part == u->second.parts.end() || part->second.etag != p.child_value("ETag"))
        return Error(400, "InvalidPart", "part " + std::to_string(n) + " missing or ETag differs");
      data += part->second.data;
    }
    if (expected == 1) return Error(400, "MalformedXML", "no parts");
    std::string etag = "\"" + api::s3::Sha256Hex(data).substr(0, 32) + "-" + std::to_string(expected - 1) + "\"";
    std::string key = u->second.key;
    objects[key] = Stored{data, etag, ""};
    uploads_.erase(u);
    return Xml(200, "<CompleteMultipartUploadResult><Key>" + key + "</Key><ETag>" + etag +
                        "</ETag></CompleteMultipartUploadResult>");
  }

  std::string access_key_, secret_, region_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, Stored>> buckets_;
  std::map<std::string, Upload> uploads_;
  std::map<std::string, int> by_method_;
  int next_upload_ = 0;
  Fault fault_;
  std::atomic<int> requests_{0}, bad_signatures_{0};
  MockServer server_;  // last: destroyed first, so no handler runs on a dead store
};

}  // namespace accel::test
