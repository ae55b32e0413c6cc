// Issue 22: `accel api` never prints a key, even when a server echoes the request's headers in
// its error body; token usage from responses reaches `accel api stats`.
#include <gtest/gtest.h>

#include "api/mock_server.h"
#include "test_util.h"

namespace accel {
namespace {

std::string Echo(const test::MockRequest& r) {
  std::string auth = r.Header("Authorization"), xkey = r.Header("x-api-key");
  return R"({"error":{"message":"invalid request, headers: Authorization: )" + auth + R"(, x-api-key: )" + xkey +
         R"(, raw \u001b]0;pwned\u0007"}})";
}

TEST(ApiSecretsCli, EchoedKeysAreNeverPrinted) {
  test::MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest& r) { return test::JsonReply(400, Echo(r)); });
  s.Handle("/v1/messages", [](const test::MockRequest& r) { return test::JsonReply(400, Echo(r)); });
  const std::string dir = test::MakeTempDir("api-secrets");
  const std::string cli = std::string(ACCEL_CLI_PATH);
  const std::string key = "sk-SeCrEtKeY0123456789";
  for (const auto& [provider, env] : std::vector<std::pair<std::string, std::string>>{
           {"openai", "OPENAI_API_KEY"}, {"groq", "GROQ_API_KEY"}, {"vllm", "VLLM_API_KEY"}, {"claude", "ANTHROPIC_API_KEY"}}) {
    const std::string base = provider == "claude" ? s.url() : s.url("/v1");
    auto r = test::RunCli("--version >/dev/null; ACCEL_API_STATS=" + dir + "/stats.json " + env + "=" + key + " " + cli +
                          " api " + provider + " chat --retries 0 --base-url " + base + " --model m hi");
    EXPECT_EQ(r.exit_code, 2) << provider << ": " << r.out;
    EXPECT_EQ(r.out.find("SeCrEtKeY"), std::string::npos) << provider << ": " << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << provider << ": raw ESC reached the terminal";
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << provider << ": raw BEL reached the terminal";
  }
}

TEST(ApiSecretsCli, TokenUsageIsRecorded) {
  test::MockServer s;
  s.Handle("/v1/chat/completions", [](const test::MockRequest&) {
    return test::JsonReply(200, R"({"choices":[{"message":{"content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3}})");
  });
  const std::string dir = test::MakeTempDir("api-usage");
  const std::string env = "ACCEL_API_STATS=" + dir + "/stats.json OPENAI_API_KEY=k ";
  const std::string cli = std::string(ACCEL_CLI_PATH);
  for (int i = 0; i < 2; ++i) {
    auto r = test::RunCli("--version >/dev/null; " + env + cli + " api openai chat --base-url " + s.url("/v1") + " --model m hi");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  auto stats = test::RunCli("--version >/dev/null; " + env + cli + " api stats --json");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("\"prompt_tokens\": 14"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("\"completion_tokens\": 6"), std::string::npos) << stats.out;
}

}  // namespace
}  // namespace accel
