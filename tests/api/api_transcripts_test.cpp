// Data-driven provider tests: tests/data/api/<provider>.json holds recorded request/response
// transcripts. Each case is replayed through the full client against the mock server on
// loopback; the request the provider built is compared with the expected one and the parsed
// result with the expected values.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/client.h"
#include "api/mock_server.h"
#include "test_util.h"

namespace accel::api {
namespace {

using Json = nlohmann::json;

struct Case {
  std::string provider, base, name;
  Json spec;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  for (const auto& entry : std::filesystem::directory_iterator(test::DataDir() + "/api")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    Json doc = Json::parse(in);
    for (const Json& c : doc["cases"]) cases.push_back({doc["provider"], doc["base"], c["name"], c});
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.provider + a.name < b.provider + b.name; });
  return cases;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = LoadCases();
  return cases;
}

ChatRequest ChatFrom(const Json& j) {
  ChatRequest r;
  r.model = j.value("model", "");
  for (const Json& m : j["messages"]) r.messages.push_back({m["role"], m["content"]});
  if (j.contains("max_tokens")) r.max_tokens = j["max_tokens"].get<int>();
  if (j.contains("temperature")) r.temperature = j["temperature"].get<double>();
  r.raw_completion = j.value("raw_completion", false);
  return r;
}

template <typename T>
bool CheckError(const ApiResult<T>& r, const Json& expect) {
  if (!expect.contains("error")) {
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok();
  }
  EXPECT_FALSE(r.ok());
  if (r.ok()) return false;
  EXPECT_EQ(ErrorClassName(r.error().cls), expect["error"].get<std::string>()) << r.error().ToString();
  if (expect.contains("retry_after")) { EXPECT_NEAR(r.error().retry_after_s, expect["retry_after"].get<double>(), 1e-6); }
  if (expect.contains("message_contains")) {
    EXPECT_NE(r.error().message.find(expect["message_contains"].get<std::string>()), std::string::npos) << r.error().message;
  }
  return false;
}

void CheckChat(const ChatResponse& r, const Json& e) {
  if (e.contains("text")) { EXPECT_EQ(r.text, e["text"].get<std::string>()); }
  if (e.contains("finish_reason")) { EXPECT_EQ(r.finish_reason, e["finish_reason"].get<std::string>()); }
  if (e.contains("prompt_tokens")) { EXPECT_EQ(r.usage.prompt_tokens, e["prompt_tokens"].get<int64_t>()); }
  if (e.contains("completion_tokens")) { EXPECT_EQ(r.usage.completion_tokens, e["completion_tokens"].get<int64_t>()); }
}

class ApiTranscript : public ::testing::TestWithParam<size_t> {};

TEST_P(ApiTranscript, Replays) {
  const Case& c = Cases()[GetParam()];
  const Json& spec = c.spec;
  test::MockServer server;
  const Json& reply_spec = spec["reply"];
  test::MockReply reply;
  reply.status = reply_spec.value("status", 200);
  reply.content_type = reply_spec.value("content_type", "application/json");
  if (reply_spec.contains("json")) reply.body = reply_spec["json"].dump();
  if (reply_spec.contains("body")) reply.body = reply_spec["body"];
  if (reply_spec.contains("chunks")) reply.chunks = reply_spec["chunks"].get<std::vector<std::string>>();
  if (reply_spec.contains("headers")) {
    for (auto& [k, v] : reply_spec["headers"].items()) reply.headers.emplace_back(k, v.get<std::string>());
  }
  // Every path gets the scripted reply: the path check below says whether it was the right one.
  std::string path = spec.contains("expect_http") ? spec["expect_http"]["path"].get<std::string>() : "";
  auto handler = [reply](const test::MockRequest&) { return reply; };
  for (const char* p : {"/v1/chat/completions", "/v1/embeddings", "/v1/messages", "/api/chat", "/api/generate",
                        "/api/embed", "/generate", "/generate_stream", "/embed", "/rerank", "/v3/chat/completions",
                        "/openai/v1/chat/completions"})
    server.Handle(p, handler);
  if (!path.empty()) server.Handle(path, handler);
  for (const char* m : {"gemini-2.0-flash", "m", "text-embedding-004"})
    for (const char* op : {":generateContent", ":streamGenerateContent", ":batchEmbedContents", ":embedContent"})
      server.Handle(std::string("/v1beta/models/") + m + op, handler);
  server.Handle("/v2/models/resnet/infer", handler);

  ClientConfig cfg;
  cfg.provider = c.provider;
  cfg.base_urls = {server.url(c.base)};
  cfg.backoff.max_retries = 0;
  cfg.http.timeout_ms = 3000;
  if (spec.contains("key")) cfg.keys = {{"key0", spec["key"], 0}};
  auto created = ApiClient::Create(cfg);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto& client = *created.value();

  const std::string op = spec["op"];
  const Json& req = spec["request"];
  const Json& expect = spec["expect"];
  if (op == "chat") {
    auto r = client.Chat(ChatFrom(req));
    if (CheckError(r, expect)) CheckChat(r.value(), expect);
  } else if (op == "chat_stream") {
    int chunks = 0;
    std::string streamed;
    auto r = client.ChatStream(ChatFrom(req), [&](const ChatChunk& ch) {
      ++chunks;
      streamed += ch.text;
    });
    if (CheckError(r, expect)) {
      CheckChat(r.value(), expect);
      EXPECT_EQ(streamed, r->text);
      if (expect.contains("chunks")) { EXPECT_EQ(chunks, expect["chunks"].get<int>()); }
    }
  } else if (op == "embed") {
    auto r = client.Embed(EmbedRequest{req["model"], req["inputs"].get<std::vector<std::string>>()});
    if (CheckError(r, expect)) {
      auto want = expect["embeddings"].get<std::vector<std::vector<float>>>();
      EXPECT_EQ(r->embeddings, want);
      if (expect.contains("prompt_tokens")) { EXPECT_EQ(r->usage.prompt_tokens, expect["prompt_tokens"].get<int64_t>()); }
    }
  } else if (op == "rerank") {
    auto r = client.Rerank(RerankRequest{req["model"], req["query"], req["texts"].get<std::vector<std::string>>()});
    if (CheckError(r, expect)) {
      ASSERT_EQ(r->results.size(), expect["rerank"].size());
      for (size_t i = 0; i < r->results.size(); ++i) {
        EXPECT_EQ(r->results[i].index, expect["rerank"][i][0].get<size_t>());
        EXPECT_DOUBLE_EQ(r->results[i].score, expect["rerank"][i][1].get<double>());
      }
    }
  } else if (op == "infer") {
    KServeInferRequest k;
    k.model = req["model"];
    for (const Json& in : req["inputs"])
      k.inputs.push_back({in["name"], in["shape"].get<std::vector<int64_t>>(), in.value("datatype", "FP32"),
                          in["data"].get<std::vector<double>>()});
    auto r = client.Infer(k);
    if (CheckError(r, expect)) {
      ASSERT_EQ(r->outputs.size(), expect["outputs"].size());
      EXPECT_EQ(r->outputs[0].name, expect["outputs"][0]["name"].get<std::string>());
      EXPECT_EQ(r->outputs[0].shape, expect["outputs"][0]["shape"].get<std::vector<int64_t>>());
      EXPECT_EQ(r->outputs[0].data, expect["outputs"][0]["data"].get<std::vector<double>>());
    }
  } else {
    FAIL() << "unknown op " << op;
  }

  if (spec.contains("expect_http")) {
    const Json& eh = spec["expect_http"];
    auto requests = server.Requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& got = requests[0];
    EXPECT_EQ(got.method, eh["method"].get<std::string>());
    EXPECT_EQ(got.path, eh["path"].get<std::string>());
    if (eh.contains("headers")) {
      for (auto& [k, v] : eh["headers"].items()) EXPECT_EQ(got.Header(k), v.get<std::string>()) << k;
    }
    if (eh.contains("json")) { EXPECT_EQ(Json::parse(got.body), eh["json"]) << got.body; }
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, ApiTranscript, ::testing::Range<size_t>(0, Cases().size()), [](const auto& info) {
  return Cases()[info.param].provider + "_" + Cases()[info.param].name;
});

TEST(ApiTranscripts, EveryProviderHasTranscripts) {
  std::set<std::string> seen;
  for (const auto& c : Cases()) seen.insert(c.provider);
  for (const auto& name : ProviderNames()) EXPECT_TRUE(seen.count(name)) << name;
}

}  // namespace
}  // namespace accel::api
