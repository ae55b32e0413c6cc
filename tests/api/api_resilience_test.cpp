// The resilience layer against a real HTTP server on loopback: retries, Retry-After, the
// circuit breaker, priorities, key rotation, batching, bad peers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "api/client.h"
#include "api/mock_server.h"
#include "api/transport/http_client.h"

namespace accel::api {
namespace {

using test::JsonReply;
using test::MockReply;
using test::MockServer;
using Clock = std::chrono::steady_clock;

constexpr const char* kChatOk =
    R"({"id":"c1","model":"m","choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})";

ClientConfig FastConfig(const MockServer& s) {
  ClientConfig c;
  c.provider = "openai";
  c.base_urls = {s.url("/v1")};
  c.backoff.base_s = 0.005;
  c.backoff.max_s = 0.02;
  c.breaker.failure_threshold = 1000;  // out of the way unless a test wants it
  c.http.timeout_ms = 5000;
  return c;
}

ChatRequest Say(const std::string& text) {
  ChatRequest r;
  r.model = "m";
  r.messages = {{"user", text}};
  return r;
}
ChatRequest Hello() { return Say("hello"); }

std::unique_ptr<ApiClient> Make(ClientConfig c) {
  auto r = ApiClient::Create(std::move(c));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TEST(ApiResilience, RetriesServerErrorsThenSucceeds) {
  MockServer s;
  s.Queue("/v1/chat/completions", JsonReply(500, R"({"error":{"message":"boom"}})"));
  s.Queue("/v1/chat/completions", JsonReply(503, "oops"));
  s.Queue("/v1/chat/completions", JsonReply(200, kChatOk));
  auto client = Make(FastConfig(s));
  auto r = client->Chat(Hello());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->text, "hi");
  EXPECT_EQ(s.RequestCount(), 3u);
  auto snap = client->stats().Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap.begin()->second.attempts, 3u);
  EXPECT_EQ(snap.begin()->second.retries, 2u);
  EXPECT_EQ(snap.begin()->second.errors[static_cast<int>(ErrorClass::kServer)], 2u);
  EXPECT_EQ(snap.begin()->second.prompt_tokens, 3);
}

TEST(ApiResilience, RetriesStopAtTheLimit) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) { return JsonReply(502, "bad gateway"); });
  auto cfg = FastConfig(s);
  cfg.backoff.max_retries = 3;
  auto client = Make(cfg);
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kServer);
  EXPECT_EQ(r.error().http_status, 502);
  EXPECT_EQ(s.RequestCount(), 4u);  // first try + 3 retries
  EXPECT_NE(r.error().ToString().find("after 4 attempts"), std::string::npos);
}

TEST(ApiResilience, ClientErrorsAreNotRetried) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    return JsonReply(401, R"({"error":{"message":"Incorrect API key","type":"invalid_request_error"}})");
  });
  auto client = Make(FastConfig(s));
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kAuth);
  EXPECT_NE(r.error().message.find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(s.RequestCount(), 1u);
}

TEST(ApiResilience, WaitsAsRetryAfterSays) {
  MockServer s;
  MockReply limited = JsonReply(429, R"({"error":{"message":"slow down"}})");
  limited.headers = {{"Retry-After", "1"}};
  s.Queue("/v1/chat/completions", limited);
  s.Queue("/v1/chat/completions", JsonReply(200, kChatOk));
  auto client = Make(FastConfig(s));
  auto t0 = Clock::now();
  auto r = client->Chat(Hello());
  double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GE(waited, 1.0);  // backoff alone would have waited ~5 ms
  EXPECT_LT(waited, 3.0);
}

TEST(ApiResilience, RetryAfterMsAndRateLimitResetHeaders) {
  MockServer s;
  MockReply limited = JsonReply(429, "{}");
  limited.headers = {{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "300ms"}};
  s.Queue("/v1/chat/completions", limited);
  s.Queue("/v1/chat/completions", JsonReply(200, kChatOk));
  auto client = Make(FastConfig(s));
  auto t0 = Clock::now();
  ASSERT_TRUE(client->Chat(Hello()).ok());
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 0.3);
}

TEST(ApiResilience, TooLongRetryAfterIsFinal) {
  MockServer s;
  MockReply limited = JsonReply(429, "{}");
  limited.headers = {{"Retry-After", "3000"}};
  s.Handle("/v1/chat/completions", [limited](const test::MockRequest&) { return limited; });
  auto cfg = FastConfig(s);
  cfg.backoff.max_retry_after_s = 10;
  auto client = Make(cfg);
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kRateLimited);
  EXPECT_DOUBLE_EQ(r.error().retry_after_s, 3000);
  EXPECT_EQ(s.RequestCount(), 1u);
}

TEST(ApiResilience, BreakerOpensHalfOpensAndCloses) {
  CircuitBreaker b(BreakerPolicy{3, 0.1, 1});
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.Allow());
    b.OnFailure();
  }
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(b.Allow());
  EXPECT_GT(b.RetryInSeconds(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  ASSERT_TRUE(b.Allow());   // the one probe
  EXPECT_FALSE(b.Allow());  // no second probe while it is out
  b.OnFailure();            // probe failed: open again
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_TRUE(b.Allow());
  b.OnSuccess();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.Allow());
}

TEST(ApiResilience, BreakerTakesFailingEndpointOutAndRoutesToHealthyOne) {
  MockServer bad, good;
  bad.Handle("/v1/chat/completions", [](const test::MockRequest&) { return JsonReply(500, "down"); });
  good.Handle("/v1/chat/completions", [](const test::MockRequest&) { return JsonReply(200, kChatOk); });
  auto cfg = FastConfig(bad);
  cfg.base_urls = {bad.url("/v1"), good.url("/v1")};
  cfg.breaker = BreakerPolicy{2, 30, 1};
  cfg.concurrency = 1;
  auto client = Make(cfg);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client->Chat(Hello()).ok());
  EXPECT_EQ(bad.RequestCount(), 2u);  // two failures opened its circuit; nothing since
  EXPECT_EQ(good.RequestCount(), 20u);
  EXPECT_EQ(client->endpoints().breaker_state(0), BreakerState::kOpen);
}

TEST(ApiResilience, AllCircuitsOpenIsAClassifiedError) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) { return JsonReply(500, "down"); });
  auto cfg = FastConfig(s);
  cfg.breaker = BreakerPolicy{1, 60, 1};
  cfg.backoff.max_retries = 2;
  cfg.backoff.max_retry_after_s = 5;  // the 60 s open window is longer: give up at once
  auto client = Make(cfg);
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kCircuitOpen);
  EXPECT_EQ(s.RequestCount(), 1u);
}

TEST(ApiResilience, PrioritiesOrderQueuedRequestsWithoutStarvingLow) {
  MockServer s;
  std::atomic<bool> release{false};
  s.Handle("/v1/chat/completions", [&](const test::MockRequest& r) {
    if (r.body.find("blocker") != std::string::npos)
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return JsonReply(200, kChatOk);
  });
  auto cfg = FastConfig(s);
  cfg.concurrency = 1;
  auto client = Make(cfg);
  std::mutex mu;
  std::vector<std::string> order;
  auto record = [&](std::string tag) {
    return [&, tag](uint64_t, ApiResult<ChatResponse> r) {
      EXPECT_TRUE(r.ok());
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(tag);
    };
  };
  std::atomic<int> done{0};
  client->SubmitChat(Say("blocker"), Priority::kNormal,
                     [&](uint64_t, ApiResult<ChatResponse>) { ++done; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the worker is now busy
  for (int i = 0; i < 3; ++i) client->SubmitChat(Hello(), Priority::kLow, record("L"));
  for (int i = 0; i < 8; ++i) client->SubmitChat(Hello(), Priority::kHigh, record("H"));
  for (int i = 0; i < 4; ++i) client->SubmitChat(Hello(), Priority::kNormal, record("N"));
  release = true;
  for (int i = 0; i < 1000 && order.size() < 15; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), 15u);
  std::string seq;
  for (auto& o : order) seq += o;
  // High first and most often, but a low request runs within the first seven picks.
  EXPECT_EQ(seq[0], 'H');
  EXPECT_LT(seq.find('L'), 7u) << seq;
  EXPECT_GT(seq.rfind('H'), seq.find('L')) << seq;  // low did not wait for all high
  int highs_in_first_8 = 0;
  for (int i = 0; i < 8; ++i) highs_in_first_8 += seq[i] == 'H';
  EXPECT_GE(highs_in_first_8, 4) << seq;
}

TEST(ApiResilience, KeysRotateRoundRobinAndSkipRateLimitedKey) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest& r) {
    if (r.Header("Authorization") == "Bearer k-b") {
      MockReply limited = JsonReply(429, "{}");
      limited.headers = {{"Retry-After", "30"}};
      return limited;
    }
    return JsonReply(200, kChatOk);
  });
  auto cfg = FastConfig(s);
  cfg.concurrency = 1;
  cfg.keys = {{"a", "k-a", 0}, {"b", "k-b", 0}, {"c", "k-c", 0}};
  auto client = Make(cfg);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(client->Chat(Hello()).ok());
  std::map<std::string, int> per_key;
  for (const auto& r : s.Requests()) ++per_key[r.Header("Authorization")];
  EXPECT_EQ(per_key["Bearer k-b"], 1);  // its 429 put it on a 30 s cooldown
  EXPECT_EQ(per_key["Bearer k-a"] + per_key["Bearer k-c"], 12);
  EXPECT_GE(per_key["Bearer k-a"], 5);
  EXPECT_GE(per_key["Bearer k-c"], 5);
}

TEST(ApiResilience, LeastLoadedKeysSpreadConcurrentLoad) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    MockReply r = JsonReply(200, kChatOk);
    r.delay_ms = 20;
    return r;
  });
  auto cfg = FastConfig(s);
  cfg.concurrency = 4;
  cfg.key_strategy = RouteStrategy::kLeastLoaded;
  cfg.keys = {{"a", "k-a", 0}, {"b", "k-b", 0}, {"c", "k-c", 0}, {"d", "k-d", 0}};
  auto client = Make(cfg);
  std::atomic<int> ok{0};
  for (int i = 0; i < 40; ++i)
    client->SubmitChat(Hello(), Priority::kNormal, [&](uint64_t, ApiResult<ChatResponse> r) { ok += r.ok(); });
  for (int i = 0; i < 400 && ok < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(ok, 40);
  std::map<std::string, int> per_key;
  for (const auto& r : s.Requests()) ++per_key[r.Header("Authorization")];
  ASSERT_EQ(per_key.size(), 4u);
  for (auto& [k, n] : per_key) EXPECT_GE(n, 5) << k;
}

TEST(ApiResilience, PerKeyRateLimitIsRespected) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) { return JsonReply(200, kChatOk); });
  auto cfg = FastConfig(s);
  cfg.keys = {{"slow", "k", 20}};  // 20 requests/s, burst 20
  auto client = Make(cfg);
  auto t0 = Clock::now();
  std::atomic<int> ok{0};
  for (int i = 0; i < 30; ++i)
    client->SubmitChat(Hello(), Priority::kNormal, [&](uint64_t, ApiResult<ChatResponse> r) { ok += r.ok(); });
  for (int i = 0; i < 1000 && ok < 30; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(ok, 30);
  // 20 at once, the other 10 at 20/s: at least ~0.45 s.
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 0.4);
}

TEST(ApiResilience, BatchingCombinesAndSplits) {
  MockServer s;
  std::atomic<int> calls{0};
  s.Handle("/v1/embeddings", [&](const test::MockRequest& r) {
    ++calls;
    auto body = nlohmann::json::parse(r.body);
    nlohmann::json data = nlohmann::json::array();
    int i = 0;
    for (const auto& in : body["input"]) {
      // The embedding encodes the input text's length and position so splits are checkable.
      data.push_back({{"index", i}, {"embedding", {static_cast<double>(in.get<std::string>().size()), i}}});
      ++i;
    }
    return JsonReply(200, nlohmann::json{{"data", data}, {"model", body["model"]}, {"usage", {{"prompt_tokens", i}}}}.dump());
  });
  auto cfg = FastConfig(s);
  cfg.batch = BatchPolicy{true, 50, 8};
  auto client = Make(cfg);
  std::mutex mu;
  std::map<uint64_t, EmbedResponse> got;
  std::map<uint64_t, std::vector<std::string>> sent;
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    std::vector<std::string> inputs;
    for (int j = 0; j <= i % 3; ++j) inputs.push_back(std::string(1 + i * 3 + j, 'x'));
    auto copy = inputs;
    uint64_t id = client->SubmitEmbed(EmbedRequest{"e", inputs}, Priority::kNormal, [&](uint64_t id, ApiResult<EmbedResponse> r) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      std::lock_guard<std::mutex> lock(mu);
      got[id] = r.value();
      ++done;
    });
    std::lock_guard<std::mutex> lock(mu);
    sent[id] = copy;
  }
  for (int i = 0; i < 400 && done < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(done, 10);
  // 19 inputs in batches of at most 8: 3 calls, not 10.
  EXPECT_EQ(calls, 3);
  for (const auto& r : s.Requests()) EXPECT_LE(nlohmann::json::parse(r.body)["input"].size(), 8u);
  for (auto& [id, inputs] : sent) {
    ASSERT_EQ(got[id].embeddings.size(), inputs.size());
    for (size_t j = 0; j < inputs.size(); ++j) EXPECT_EQ(got[id].embeddings[j][0], static_cast<float>(inputs[j].size()));
  }
}

TEST(ApiResilience, BatchFailureFailsEveryPart) {
  MockServer s;
  s.Handle("/v1/embeddings", [](const test::MockRequest&) { return JsonReply(400, R"({"error":{"message":"bad"}})"); });
  auto cfg = FastConfig(s);
  cfg.batch = BatchPolicy{true, 20, 64};
  auto client = Make(cfg);
  std::atomic<int> failed{0};
  for (int i = 0; i < 5; ++i)
    client->SubmitEmbed(EmbedRequest{"e", {"a"}}, Priority::kNormal, [&](uint64_t, ApiResult<EmbedResponse> r) {
      EXPECT_FALSE(r.ok());
      if (!r.ok() && r.error().cls == ErrorClass::kBadRequest) ++failed;
    });
  for (int i = 0; i < 400 && failed < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(s.RequestCount(), 1u);
}

TEST(ApiResilience, QueueFullIsRefusedNotLost) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    MockReply r = JsonReply(200, kChatOk);
    r.delay_ms = 100;
    return r;
  });
  auto cfg = FastConfig(s);
  cfg.concurrency = 1;
  cfg.queue_capacity = 2;
  auto client = Make(cfg);
  std::atomic<int> ok{0}, overloaded{0};
  for (int i = 0; i < 6; ++i)
    client->SubmitChat(Hello(), Priority::kNormal, [&](uint64_t, ApiResult<ChatResponse> r) {
      if (r.ok()) ++ok;
      else if (r.error().cls == ErrorClass::kOverloaded) ++overloaded;
    });
  for (int i = 0; i < 400 && ok + overloaded < 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ok + overloaded, 6);
  EXPECT_GE(overloaded, 3);
}

TEST(ApiResilience, ShutdownCancelsQueuedRequestsExactlyOnce) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    MockReply r = JsonReply(200, kChatOk);
    r.delay_ms = 50;
    return r;
  });
  std::atomic<int> ended{0}, cancelled{0};
  {
    auto cfg = FastConfig(s);
    cfg.concurrency = 1;
    auto client = Make(cfg);
    for (int i = 0; i < 10; ++i)
      client->SubmitChat(Hello(), Priority::kNormal, [&](uint64_t, ApiResult<ChatResponse> r) {
        ++ended;
        if (!r.ok() && r.error().cls == ErrorClass::kCancelled) ++cancelled;
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ended, 10);
  EXPECT_GE(cancelled, 8);
}

// --- hostile or broken peers: a classified error, quickly, never a crash or a hang ---

struct BadPeerCase {
  const char* name;
  MockReply reply;
  ErrorClass expected;
};

class ApiBadPeer : public ::testing::TestWithParam<int> {};

std::vector<BadPeerCase> BadPeers() {
  std::vector<BadPeerCase> cases;
  cases.push_back({"malformed_json", JsonReply(200, R"({"choices":[{"message":)"), ErrorClass::kProtocol});
  cases.push_back({"wrong_shape", JsonReply(200, R"({"choices":"nope"})"), ErrorClass::kProtocol});
  MockReply html = JsonReply(200, "<html>gateway</html>");
  html.content_type = "text/html";
  cases.push_back({"wrong_content_type", html, ErrorClass::kProtocol});
  MockReply drop = JsonReply(200, kChatOk);
  drop.drop_mid_body = true;
  cases.push_back({"dropped_connection", drop, ErrorClass::kNetwork});
  MockReply slow = JsonReply(200, kChatOk);
  slow.delay_ms = 3000;
  cases.push_back({"slow_past_timeout", slow, ErrorClass::kTimeout});
  MockReply endless;
  endless.never_end = true;
  cases.push_back({"never_ends", endless, ErrorClass::kTimeout});
  MockReply huge = JsonReply(200, std::string(3 << 20, 'x'));
  cases.push_back({"huge_body", huge, ErrorClass::kProtocol});
  MockReply redirect = JsonReply(302, "");
  redirect.headers = {{"Location", "http://198.51.100.7/steal"}};
  cases.push_back({"redirect_elsewhere", redirect, ErrorClass::kBadRequest});
  return cases;
}

TEST_P(ApiBadPeer, GivesClassifiedError) {
  BadPeerCase c = BadPeers()[GetParam()];
  MockServer s;
  s.Handle("/v1/chat/completions", [&](const test::MockRequest&) { return c.reply; });
  auto cfg = FastConfig(s);
  cfg.backoff.max_retries = 0;
  // Short only where the timeout is what is tested: the other peers (3 MiB bodies among them)
  // must not time out on a busy CI machine.
  cfg.http.timeout_ms = c.expected == ErrorClass::kTimeout ? 500 : 10000;
  cfg.http.max_response_bytes = 1 << 20;
  auto client = Make(cfg);
  auto t0 = Clock::now();
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok()) << c.name;
  EXPECT_EQ(r.error().cls, c.expected) << c.name << ": " << r.error().ToString();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 2.5) << c.name;
  EXPECT_EQ(r.error().ToString().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cases, ApiBadPeer, ::testing::Range(0, 8), [](const auto& info) {
  return std::string(BadPeers()[info.param].name);
});

TEST(ApiResilience, ConnectionRefusedIsNetworkError) {
  int port;
  { MockServer s; port = s.port(); }  // bound then closed: nothing listens there now
  ClientConfig cfg;
  cfg.provider = "openai";
  cfg.base_urls = {"http://127.0.0.1:" + std::to_string(port) + "/v1"};
  cfg.backoff.max_retries = 1;
  cfg.backoff.base_s = 0.001;
  auto client = Make(cfg);
  auto r = client->Chat(Hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kNetwork);
}

}  // namespace
}  // namespace accel::api

namespace accel::api {
namespace {

// Issue 22: requests that can never succeed (malformed JSON, a body over the cap) are not
// retried, and the request deadline covers every attempt and backoff wait.
TEST(ApiHardening, ParseAndSizeErrorsAreNotRetried) {
  for (bool huge : {false, true}) {
    MockServer s;
    s.Handle("/v1/chat/completions", [&](const test::MockRequest&) {
      return huge ? JsonReply(200, std::string(2 << 20, 'x')) : JsonReply(200, R"({"choices":[{"message":)");
    });
    auto cfg = FastConfig(s);
    cfg.backoff.max_retries = 4;
    cfg.http.max_response_bytes = 1 << 20;
    auto r = Make(cfg)->Chat(Hello());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::kProtocol);
    EXPECT_EQ(s.RequestCount(), 1u) << (huge ? "huge body" : "malformed JSON");
  }
}

TEST(ApiHardening, DeadlineCoversAllAttempts) {
  MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    MockReply slow = JsonReply(200, kChatOk);
    slow.delay_ms = 3000;
    return slow;
  });
  auto cfg = FastConfig(s);
  cfg.backoff.max_retries = 5;
  cfg.http.timeout_ms = 1000;   // per attempt
  cfg.request_deadline_s = 1.5;  // the whole request
  auto t0 = Clock::now();
  auto r = Make(cfg)->Chat(Hello());
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kTimeout);
  EXPECT_LT(took, 2.5);  // 6 attempts x 1 s without the deadline
  EXPECT_LE(s.RequestCount(), 2u);
}

}  // namespace
}  // namespace accel::api

namespace accel::api {
namespace {

// Issue 22: the path goes out as given (no dot-segment squashing after signing).
TEST(ApiHardening, DotSegmentsAreSentAsGiven) {
  MockServer s;
  s.HandleAny([](const test::MockRequest&) { return JsonReply(200, "{}"); });
  HttpRequest req;
  req.method = "GET";
  req.url = s.url("/b/../etc/passwd/./x");
  HttpOptions opt;
  auto r = HttpSend(req, opt);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(s.Requests().size(), 1u);
  EXPECT_EQ(s.Requests()[0].target, "/b/../etc/passwd/./x");
}

// Issue 22: SSL_CERT_FILE names the CA bundle (a private CA); a bad one is a clean TLS error.
TEST(ApiHardening, SslCertFileIsHonoured) {
  MockServer s;
  s.HandleAny([](const test::MockRequest&) { return JsonReply(200, "{}"); });
  ::setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
  HttpRequest req;
  req.method = "GET";
  req.url = "https://127.0.0.1:" + std::to_string(s.port()) + "/x";
  HttpOptions opt;
  opt.timeout_ms = 5000;
  std::thread t([&] {  // a fresh thread: a fresh curl handle
    auto r = HttpSend(req, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().cls, ErrorClass::kProtocol) << r.error().ToString();
  });
  t.join();
  ::unsetenv("SSL_CERT_FILE");
}

}  // namespace
}  // namespace accel::api
