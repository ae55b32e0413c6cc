// 10,000 requests from 32 threads against a flaky endpoint: every request ends exactly once,
// as a success or a final classified error; none lost, none duplicated.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "api/client.h"
#include "api/mock_server.h"

namespace accel::api {
namespace {

ChatRequest OneMessage() {
  ChatRequest r;
  r.model = "m";
  r.messages = {{"user", "x"}};
  return r;
}

TEST(ApiConcurrency, TenThousandRequestsEachEndExactlyOnce) {
  test::MockServer s;
  s.KeepRequests(false);
  std::atomic<uint64_t> served{0};
  s.Handle("/v1/chat/completions", [&](const test::MockRequest&) {
    uint64_t n = served++;
    // Flaky: ~20% server errors, ~5% rate limited, ~3% malformed bodies, the rest fine.
    switch (n % 37) {
      case 0: case 5: case 9: case 13: case 17: case 21: case 29:
        return test::JsonReply(503, R"({"error":{"message":"unavailable"}})");
      case 3: case 31: {
        auto r = test::JsonReply(429, "{}");
        r.headers = {{"retry-after-ms", "2"}};
        return r;
      }
      case 7:
        return test::JsonReply(200, R"({"choices":[)");
      default:
        return test::JsonReply(200, R"({"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}})");
    }
  });
  ClientConfig cfg;
  cfg.provider = "openai";
  cfg.base_urls = {s.url("/v1")};
  cfg.concurrency = 16;
  cfg.queue_capacity = 20000;
  cfg.backoff.base_s = 0.001;
  cfg.backoff.max_s = 0.004;
  cfg.backoff.max_retries = 3;
  cfg.breaker.failure_threshold = 1000000;
  cfg.keys = {{"a", "ka", 0}, {"b", "kb", 0}};
  auto created = ApiClient::Create(cfg);
  ASSERT_TRUE(created.ok());
  auto client = std::move(created).value();

  constexpr int kThreads = 32, kPerThread = 10000 / kThreads + 1;
  constexpr int kTotal = kThreads * kPerThread;
  std::vector<std::atomic<int>> endings(kTotal + 64);
  std::atomic<int> ok{0}, failed{0}, finished{0};
  std::mutex ids_mu;
  std::vector<uint64_t> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<uint64_t> mine;
      for (int i = 0; i < kPerThread; ++i) {
        mine.push_back(client->SubmitChat(OneMessage(), static_cast<Priority>(i % 3),
                                          [&](uint64_t id, ApiResult<ChatResponse> r) {
          if (id < endings.size()) ++endings[id];
          (r.ok() ? ok : failed)++;
          ++finished;
        }));
      }
      std::lock_guard<std::mutex> lock(ids_mu);
      ids.insert(ids.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 3000 && finished < kTotal; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(finished.load(), kTotal);
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "request ids must be unique";
  for (uint64_t id : ids) ASSERT_EQ(endings[id].load(), 1) << "request " << id;
  EXPECT_EQ(ok + failed, kTotal);
  EXPECT_GT(ok.load(), kTotal * 9 / 10);  // retries recover most flaky answers
  // Stats saw every attempt.
  uint64_t attempts = 0, successes = 0;
  for (const auto& [k, c] : client->stats().Snapshot()) {
    attempts += c.attempts;
    successes += c.successes;
  }
  EXPECT_EQ(attempts, served.load());
  EXPECT_EQ(successes, static_cast<uint64_t>(ok.load()));
}

}  // namespace
}  // namespace accel::api
