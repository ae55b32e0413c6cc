// `accel api ...` as a user runs it, against the mock server on loopback.
#include <gtest/gtest.h>

#include "api/mock_server.h"
#include "test_util.h"

namespace accel {
namespace {

TEST(ApiCli, ChatStreamEmbedStatsAndErrors) {
  test::MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest& r) {
    if (r.Header("Authorization") != "Bearer sk-cli") return test::JsonReply(401, R"({"error":{"message":"bad key"}})");
    if (r.body.find("\"stream\":true") != std::string::npos)
      return test::SseReply({"data: {\"choices\":[{\"delta\":{\"content\":\"str\"}}]}\n\n",
                             "data: {\"choices\":[{\"delta\":{\"content\":\"eamed\"}}]}\n\ndata: [DONE]\n\n"});
    return test::JsonReply(200, R"({"choices":[{"message":{"content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}})");
  });
  s.Handle("/api/embed", [](const test::MockRequest&) { return test::JsonReply(200, R"({"embeddings":[[0.5,1.5]]})"); });
  std::string dir = test::MakeTempDir("api-cli");
  std::string env = "ACCEL_API_STATS=" + dir + "/stats.json OPENAI_API_KEY=sk-cli ";
  std::string base = " --base-url " + s.url("/v1") + " --model m ";

  test::CommandResult ok;
  // RunCli runs through the shell: put the environment in front of the binary with env(1).
  ok = test::RunCli("--version >/dev/null; " + env + std::string(ACCEL_CLI_PATH) + " api openai chat" + base + "ping");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("pong"), std::string::npos) << ok.out;

  auto streamed = test::RunCli("--version >/dev/null; " + env + std::string(ACCEL_CLI_PATH) + " api openai chat --stream" + base + "hi");
  EXPECT_EQ(streamed.exit_code, 0) << streamed.out;
  EXPECT_NE(streamed.out.find("streamed"), std::string::npos) << streamed.out;

  auto embed = test::RunCli("--version >/dev/null; " + env + std::string(ACCEL_CLI_PATH) + " api ollama embed --base-url " + s.url() + " --model e hello");
  EXPECT_EQ(embed.exit_code, 0) << embed.out;
  EXPECT_NE(embed.out.find("[[0.5,1.5]]"), std::string::npos) << embed.out;

  auto bad_key = test::RunCli("--version >/dev/null; ACCEL_API_STATS=" + dir + "/stats.json OPENAI_API_KEY=wrong " +
                              std::string(ACCEL_CLI_PATH) + " api openai chat" + base + "ping");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.out.find("accel: auth (HTTP 401): bad key"), std::string::npos) << bad_key.out;
  EXPECT_EQ(bad_key.out.find("wrong"), std::string::npos) << "a key must never be printed";

  auto stats = test::RunCli("--version >/dev/null; ACCEL_API_STATS=" + dir + "/stats.json " + std::string(ACCEL_CLI_PATH) + " api stats");
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("openai"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("auth=1"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("ollama"), std::string::npos) << stats.out;

  auto bad_url = test::RunCli("api openai chat --base-url ftp://x --model m hi");
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_NE(bad_url.out.find("must start with http"), std::string::npos) << bad_url.out;
}

}  // namespace
}  // namespace accel
