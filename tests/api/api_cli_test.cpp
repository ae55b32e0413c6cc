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

// A hosted API without its key: the variable is named and nothing is sent. A server on this
// machine (vLLM, TGI, a proxy) may run without auth, so there the request goes out keyless.
TEST(ApiCli, MissingKeyIsNamedBeforeAnyRequest) {
  const std::string cli = std::string(ACCEL_CLI_PATH);
  const std::string env = "--version >/dev/null; env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY ACCEL_API_STATS=/dev/null ";
  // .invalid never resolves (RFC 2606): had a request been attempted, the error would be a
  // network error, not the key message.
  auto openai = test::RunCli(env + cli + " api openai chat --base-url https://api.example.invalid/v1 -m gpt-4o hi");
  EXPECT_EQ(openai.exit_code, 2);
  EXPECT_NE(openai.out.find("openai needs an API key: set OPENAI_API_KEY"), std::string::npos) << openai.out;
  EXPECT_NE(openai.out.find("was not contacted"), std::string::npos) << openai.out;
  auto claude = test::RunCli(env + cli + " api claude embed hi");
  EXPECT_NE(claude.out.find("set ANTHROPIC_API_KEY"), std::string::npos) << claude.out;
  auto empty = test::RunCli("--version >/dev/null; OPENAI_API_KEY=' , ' " + cli + " api openai chat -m m hi");
  EXPECT_NE(empty.out.find("set OPENAI_API_KEY"), std::string::npos) << empty.out;

  test::MockServer s;
  int requests = 0;
  s.Handle("/v1/chat/completions", [&requests](const test::MockRequest& r) {
    ++requests;
    EXPECT_EQ(r.Header("Authorization"), "");
    return test::JsonReply(200, R"({"choices":[{"message":{"content":"local"},"finish_reason":"stop"}]})");
  });
  auto local = test::RunCli(env + cli + " api openai chat --base-url " + s.url("/v1") + " -m m hi");
  EXPECT_EQ(local.exit_code, 0) << local.out;
  EXPECT_NE(local.out.find("local"), std::string::npos) << local.out;
  EXPECT_EQ(requests, 1);
}

}  // namespace
}  // namespace accel
