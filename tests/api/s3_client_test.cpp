// S3Client against an in-memory S3 on loopback that re-derives every request's SigV4
// signature with the secret (tests/api/s3_mock.h).
#include <gtest/gtest.h>

#include "api/s3/s3_client.h"
#include "s3_mock.h"

namespace accel::api::s3 {
namespace {

using test::MockReply;
using test::S3Mock;

const char* kKeyId = "AKIATESTKEY0000000";
const char* kSecret = "test/secret+key0123456789abcdefghijklmn";

S3Config ConfigFor(std::vector<std::string> endpoints) {
  S3Config c;
  c.endpoints = std::move(endpoints);
  c.credentials = {kKeyId, kSecret, "us-east-1", "s3"};
  c.backoff.base_s = 0.001;
  c.backoff.max_s = 0.01;
  c.backoff.max_retries = 3;
  c.http.timeout_ms = 5000;
  return c;
}

std::unique_ptr<S3Client> MakeClient(S3Config c) {
  auto r = S3Client::Create(std::move(c));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TEST(S3Client, PutGetHeadDeleteRoundTrip) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("models");
  auto client = MakeClient(ConfigFor({s3.url()}));
  std::string body = "weights \x01\x02\x00 bytes";
  body += std::string(1000, 'x');
  // A key with spaces, unicode and characters that must be percent-encoded in the signature.
  std::string key = "dir one/model+v1 (ü).bin";
  auto put = client->Put("models", key, body);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_FALSE(put.value().empty());
  EXPECT_EQ(s3.Object("models", key), body);

  auto got = client->Get("models", key);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(got->etag, put.value());
  EXPECT_EQ(got->content_type, "application/octet-stream");

  auto head = client->Head("models", key);
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(head->etag, put.value());

  ASSERT_TRUE(client->Delete("models", key).ok());
  EXPECT_FALSE(s3.Object("models", key).has_value());
  EXPECT_EQ(s3.bad_signatures(), 0);
}

TEST(S3Client, ErrorsMapToSharedClasses) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  auto client = MakeClient(ConfigFor({s3.url()}));
  auto missing = client->Get("b", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().cls, ErrorClass::kNotFound);
  EXPECT_NE(missing.error().message.find("NoSuchKey"), std::string::npos) << missing.error().message;
  auto head_missing = client->Head("b", "nope");  // HEAD: no body, class from the status
  ASSERT_FALSE(head_missing.ok());
  EXPECT_EQ(head_missing.error().cls, ErrorClass::kNotFound);
  auto no_bucket = client->Get("other", "k");
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.error().cls, ErrorClass::kNotFound);
  EXPECT_NE(no_bucket.error().message.find("NoSuchBucket"), std::string::npos);

  // A wrong secret: the server's re-derived signature differs -> auth, not retried.
  S3Config wrong = ConfigFor({s3.url()});
  wrong.credentials.secret_access_key = "not-the-secret";
  int before = s3.requests();
  auto denied = MakeClient(wrong)->Put("b", "k", "data");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().cls, ErrorClass::kAuth);
  EXPECT_NE(denied.error().message.find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_EQ(s3.requests() - before, 1);
  EXPECT_EQ(s3.bad_signatures(), 1);
  EXPECT_FALSE(s3.Object("b", "k").has_value());
}

TEST(S3Client, SlowDownIsRetriedThenSucceeds) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  std::atomic<int> slowdowns{2};
  s3.SetFault([&](const test::MockRequest&) -> std::optional<MockReply> {
    if (slowdowns-- <= 0) return std::nullopt;
    MockReply r;
    r.status = 503;
    r.content_type = "application/xml";
    r.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    return r;
  });
  auto client = MakeClient(ConfigFor({s3.url()}));
  auto put = client->Put("b", "k", "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(s3.count("PUT"), 3);

  // Retries exhausted: the final error keeps the rate_limited class.
  slowdowns = 100;
  auto r = client->Get("b", "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kRateLimited);
  EXPECT_NE(r.error().message.find("SlowDown"), std::string::npos);
}

TEST(S3Client, ListFollowsContinuationTokens) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  auto client = MakeClient(ConfigFor({s3.url()}));
  for (int i = 0; i < 23; ++i) ASSERT_TRUE(client->Put("b", "data/part-" + std::to_string(100 + i), std::string(i, 'z')).ok());
  ASSERT_TRUE(client->Put("b", "other/x", "1").ok());
  int gets_before = s3.count("GET");
  auto listed = client->List("b", "data/", 5);
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->size(), 23u);
  EXPECT_EQ(s3.count("GET") - gets_before, 5);  // 5+5+5+5+3
  for (int i = 0; i < 23; ++i) {
    EXPECT_EQ(listed.value()[i].key, "data/part-" + std::to_string(100 + i));
    EXPECT_EQ(listed.value()[i].size, static_cast<uint64_t>(i));
  }
  auto everything = client->List("b", "");
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), 24u);
}

TEST(S3Client, MalformedListAnswerIsAProtocolError) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  s3.SetFault([](const test::MockRequest& r) -> std::optional<MockReply> {
    MockReply m;
    m.content_type = "application/xml";
    m.body = r.target.find("continuation") == std::string::npos
                 ? "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"
                 : "<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>";
    return m;
  });
  auto r = MakeClient(ConfigFor({s3.url()}))->List("b", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kProtocol);
}

TEST(S3Client, MultipartUploadAssemblesParts) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  S3Config c = ConfigFor({s3.url()});
  c.part_size = 64 * 1024;
  c.multipart_threshold = 100 * 1024;
  auto client = MakeClient(c);
  std::string body;
  for (int i = 0; i < 200 * 1024 + 17; ++i) body += static_cast<char>('a' + i % 26 + (i / 977) % 3);
  auto etag = client->PutAuto("b", "big.bin", body);
  ASSERT_TRUE(etag.ok()) << etag.error().ToString();
  EXPECT_NE(etag.value().find("-4\""), std::string::npos) << etag.value();  // 4 parts: 64+64+64+~8 KiB
  EXPECT_EQ(s3.count("PUT"), 4);
  EXPECT_EQ(s3.Object("b", "big.bin"), body);
  EXPECT_EQ(s3.OpenUploads(), 0u);
  EXPECT_EQ(s3.bad_signatures(), 0);
}

TEST(S3Client, MultipartFailureAbortsTheUpload) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  // The third part is refused for good (a non-retryable 400).
  s3.SetFault([](const test::MockRequest& r) -> std::optional<MockReply> {
    if (r.method == "PUT" && r.target.find("partNumber=3") != std::string::npos) {
      MockReply m;
      m.status = 400;
      m.content_type = "application/xml";
      m.body = "<Error><Code>EntityTooSmall</Code><Message>too small</Message></Error>";
      return m;
    }
    return std::nullopt;
  });
  S3Config c = ConfigFor({s3.url()});
  c.part_size = 1000;
  auto r = MakeClient(c)->PutMultipart("b", "k", std::string(4500, 'q'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kBadRequest);
  EXPECT_NE(r.error().message.find("aborted"), std::string::npos) << r.error().message;
  EXPECT_EQ(s3.count("DELETE"), 1);
  EXPECT_EQ(s3.OpenUploads(), 0u);
  EXPECT_FALSE(s3.Object("b", "k").has_value());
}

TEST(S3Client, TwoEndpointsRoundRobinAndFailover) {
  S3Mock a(kKeyId, kSecret), b(kKeyId, kSecret);
  a.AddBucket("b");
  b.AddBucket("b");
  auto client = MakeClient(ConfigFor({a.url(), b.url()}));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client->Put("b", "k" + std::to_string(i), "v").ok());
  EXPECT_EQ(a.count("PUT"), 5);  // round-robin: alternate endpoints
  EXPECT_EQ(b.count("PUT"), 5);

  // Endpoint a fails with 500s: every request still succeeds via b, and a's breaker opens.
  a.SetFault([](const test::MockRequest&) -> std::optional<MockReply> {
    MockReply m;
    m.status = 500;
    m.content_type = "application/xml";
    m.body = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";
    return m;
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client->Put("b", "later" + std::to_string(i), "v").ok()) << i;
  EXPECT_EQ(b.count("PUT"), 25);
  EXPECT_LT(a.count("PUT"), 5 + 20);  // the open breaker kept traffic off a
  EXPECT_EQ(client->endpoints().breaker_state(0), BreakerState::kOpen);
}

TEST(S3Client, LeastLoadedSpreadsConcurrentCallers) {
  S3Mock a(kKeyId, kSecret), b(kKeyId, kSecret);
  a.AddBucket("b");
  b.AddBucket("b");
  // a answers slowly: least-loaded routing sends more of the concurrent traffic to b.
  a.SetFault([](const test::MockRequest&) -> std::optional<MockReply> {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return std::nullopt;
  });
  S3Config c = ConfigFor({a.url(), b.url()});
  c.strategy = RouteStrategy::kLeastLoaded;
  auto client = MakeClient(c);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (!client->Put("b", "t" + std::to_string(t) + "-" + std::to_string(i), "v").ok()) ++failures;
    });
  for (auto& th : callers) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(a.count("PUT") + b.count("PUT"), 40);
  EXPECT_GT(b.count("PUT"), a.count("PUT"));
}

TEST(S3Client, RejectsBadConfiguration) {
  S3Config c = ConfigFor({"ftp://x"});
  EXPECT_FALSE(S3Client::Create(c).ok());
  c = ConfigFor({});
  EXPECT_FALSE(S3Client::Create(c).ok());
  c = ConfigFor({"http://127.0.0.1:1"});
  c.credentials.secret_access_key.clear();
  EXPECT_FALSE(S3Client::Create(c).ok());
}

}  // namespace
}  // namespace accel::api::s3

namespace accel::api::s3 {
namespace {

// Issue 22: a server handing out a fresh continuation token for ever does not keep `ls` going.
TEST(S3Client, EndlessListingIsBounded) {
  S3Mock s3(kKeyId, kSecret);
  s3.AddBucket("b");
  std::atomic<int> pages{0};
  s3.SetFault([&](const test::MockRequest&) -> std::optional<MockReply> {
    MockReply m;
    m.content_type = "application/xml";
    m.body = "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t" + std::to_string(pages++) +
             "</NextContinuationToken></ListBucketResult>";
    return m;
  });
  auto r = MakeClient(ConfigFor({s3.url()}))->List("b", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kProtocol);
  EXPECT_LE(pages.load(), 20);
}

}  // namespace
}  // namespace accel::api::s3
