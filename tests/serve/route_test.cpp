// Routing of `accel serve` over real HTTP on loopback: a route's endpoints are a local model
// (llama-tiny with a word tokenizer, answers checked against its reference greedy ids) and
// remote OpenAI-compatible mock servers (cpp-httplib, tests/api/mock_server.h). Dead remotes,
// remote 429s and a busy local model move the request to the next endpoint, counted in /metrics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "../api/mock_server.h"
#include "serve/model_registry.h"
#include "serve/router.h"
#include "serve/server.h"
#include "test_util.h"

namespace accel::serve {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Words(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " w" : "w") + std::to_string(ids[i]);
  return s;
}

// A loopback port nobody listens on: bound, read, closed.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

const char* kRemoteAnswer = R"({"id":"chatcmpl-remote","object":"chat.completion","created":1,"model":"upstream",
  "choices":[{"index":0,"message":{"role":"assistant","content":"hello from remote"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})";

class RouteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    llama_dir_ = new std::string(test::LlamaTinyWithWordTokenizer("route_llama"));
    bert_dir_ = new std::string(test::BertTinyWithTokenizer("route_bert"));
  }
  void StartServer(ServeOptions o) {
    o.port = 0;
    o.device = "cpu";
    o.models = {"chat=" + *llama_dir_, "ids=" + test::ModelDir("llama-tiny"), "bert=" + *bert_dir_};  // ids: no tokenizer
    auto s = Server::Create(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    server_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }
  json PostJson(const std::string& path, const json& body, int want_status = 200) {
    auto r = client_->Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  std::string Metrics() {
    auto r = client_->Get("/metrics");
    return r ? r->body : "";
  }
  // A chat request whose greedy answer through the local model is the reference's first row.
  json ReferenceChat(const std::string& model) {
    return {{"model", model}, {"messages", {{{"role", "user"}, {"content", Words(ref_.prompts[0])}}}},
            {"max_tokens", ref_.new_ids[0].size()}, {"temperature", 0}};
  }

  static std::string* llama_dir_;
  static std::string* bert_dir_;
  // Remote endpoints; declared before the server so that the server (and the keep-alive
  // connections of its API clients) goes first.
  test::MockServer remote_, second_;
  test::GreedyReference ref_ = test::LoadGreedyReference("llama-tiny");
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};
std::string* RouteTest::llama_dir_ = nullptr;
std::string* RouteTest::bert_dir_ = nullptr;

TEST_F(RouteTest, DeadRemoteFailsOverToTheLocalModel) {
  ServeOptions o;
  o.routes = {"r=openai:http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1,local:chat"};
  StartServer(o);
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(j["model"], "r");
  EXPECT_EQ(j["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"connection\"} 1\n"), std::string::npos) << Metrics();

  // Five consecutive failures open the endpoint's circuit breaker: the sixth request does not
  // try to connect, and the failover says why.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PostJson("/v1/chat/completions", ReferenceChat("r"))["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  std::string m = Metrics();
  EXPECT_NE(m.find("accel_serve_failovers_total{model=\"r\",reason=\"connection\"} 5\n"), std::string::npos) << m;
  EXPECT_NE(m.find("accel_serve_failovers_total{model=\"r\",reason=\"circuit_open\"} 1\n"), std::string::npos) << m;

  // Token-id prompts skip remote endpoints (the API layer carries text): the local model answers.
  json c = PostJson("/v1/completions", {{"model", "r"}, {"prompt", ref_.prompts[1]}, {"max_tokens", ref_.new_ids[1].size()}, {"temperature", 0}});
  EXPECT_EQ(c["choices"][0]["token_ids"], json(ref_.new_ids[1]));

  // The route is listed beside the served models.
  json models = json::parse(client_->Get("/v1/models")->body);
  bool listed = false;
  for (const auto& m : models["data"]) listed |= m["id"] == "r";
  EXPECT_TRUE(listed) << models.dump();
  EXPECT_EQ(json::parse(client_->Get("/v1/models/r")->body)["owned_by"], "accel-route");
}

TEST_F(RouteTest, BusyLocalModelFailsOverToTheRemote) {
  test::MockServer& remote = remote_;
  remote.Queue("/v1/chat/completions", test::JsonReply(200, kRemoteAnswer));
  auto sse = test::SseReply({"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello \"}}]}\n\n",
                             "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"streamed\"},\"finish_reason\":\"stop\"}]}\n\n",
                             "data: [DONE]\n\n"});
  sse.chunk_delay_ms = 20;
  remote.Queue("/v1/chat/completions", sse);
  ServeOptions o;
  o.max_queue = 0;
  o.parallel = 1;
  o.routes = {"r=local:chat,openai:" + remote.url("/v1")};
  StartServer(o);
  auto held = server_->registry().Find("chat")->TryAdmit();  // the local model's one slot is taken, its queue (0) full
  ASSERT_TRUE(held);
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(j["model"], "r");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hello from remote");
  EXPECT_EQ(j["usage"]["completion_tokens"], 4);
  ASSERT_EQ(remote.Requests().size(), 1u);
  json sent = json::parse(remote.Requests()[0].body);
  EXPECT_EQ(sent["model"], "r");  // the upstream model is the route's name by default
  EXPECT_EQ(sent["messages"][0]["content"], Words(ref_.prompts[0]));

  // A streamed request through a remote endpoint: the remote's chunks relayed as they come.
  json req = ReferenceChat("r");
  req["stream"] = true;
  auto r = client_->Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(remote.Requests()[1].body)["stream"], true);
  std::vector<json> frames;
  size_t pos = 0;
  bool done = false;
  for (size_t end; (end = r->body.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
    std::string data = r->body.substr(pos + 6, end - pos - 6);
    if (data == "[DONE]") done = true;
    else frames.push_back(json::parse(data));
  }
  EXPECT_TRUE(done) << r->body;
  ASSERT_EQ(frames.size(), 4u) << r->body;  // role, "hello ", "streamed", finish
  EXPECT_EQ(frames[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(frames[1]["choices"][0]["delta"]["content"], "hello ");
  EXPECT_EQ(frames[2]["choices"][0]["delta"]["content"], "streamed");
  EXPECT_EQ(frames[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(frames[3]["model"], "r");
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"overload\"} 2\n"), std::string::npos) << Metrics();

  // Once the local model is free, it answers again (it comes first).
  held.reset();
  json k = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(k["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  EXPECT_EQ(remote.Requests().size(), 2u);

  // A remote stream that fails before its first chunk still fails over: the local model held
  // again and the remote answering 503, every endpoint is out: 429 (one was overloaded).
  held = server_->registry().Find("chat")->TryAdmit();
  remote.Queue("/v1/chat/completions", test::JsonReply(503, R"({"error":{"message":"warming up"}})"));
  auto bad = client_->Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 429) << bad->body;
  EXPECT_EQ(bad->get_header_value("Retry-After"), "1");
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"server_error\"} 1\n"), std::string::npos) << Metrics();
}

TEST_F(RouteTest, RemoteRateLimitMovesToTheNextEndpoint) {
  test::MockServer& limited = remote_;
  test::MockServer& second = second_;
  auto busy = test::JsonReply(429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})");
  busy.headers = {{"Retry-After", "1"}};
  limited.Queue("/v1/chat/completions", busy);
  second.Queue("/v1/chat/completions", test::JsonReply(200, kRemoteAnswer));
  ServeOptions o;
  o.routes = {"r=openai:" + limited.url("/v1") + ",vllm:" + second.url("/v1") + ",local:chat"};
  StartServer(o);
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hello from remote");
  EXPECT_EQ(limited.Requests().size(), 1u);  // one attempt, no retry: the next endpoint instead
  EXPECT_EQ(second.Requests().size(), 1u);
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"rate_limit\"} 1\n"), std::string::npos) << Metrics();

  // The first remote cools down (Retry-After: 1) and is passed over without a request; the
  // second answers 500: the local model answers with the reference.
  second.Queue("/v1/chat/completions", test::JsonReply(500, R"({"error":{"message":"boom"}})"));
  json k = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(k["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  std::string m = Metrics();
  EXPECT_NE(m.find("accel_serve_failovers_total{model=\"r\",reason=\"rate_limit\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("accel_serve_failovers_total{model=\"r\",reason=\"server_error\"} 1\n"), std::string::npos) << m;
  EXPECT_EQ(limited.Requests().size(), 1u);
  EXPECT_EQ(second.Requests().size(), 2u);
}

TEST_F(RouteTest, SlowRemoteTimesOutToTheNextEndpoint) {
  auto slow = test::JsonReply(200, kRemoteAnswer);
  slow.delay_ms = 3000;
  remote_.Queue("/v1/chat/completions", slow);
  const fs::path config = fs::temp_directory_path() / ("route_test_slow_" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(config);
    out << json{{"routes", {{"r", {{{"provider", "openai"}, {"target", remote_.url("/v1")}, {"timeout_s", 0.5}},
                                   {{"provider", "local"}, {"target", "chat"}}}}}}}.dump();
  }
  ServeOptions o;
  o.config_path = config.string();
  StartServer(o);
  fs::remove(config);
  auto t0 = std::chrono::steady_clock::now();
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.5);
  EXPECT_EQ(j["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"timeout\"} 1\n"), std::string::npos) << Metrics();
}

TEST_F(RouteTest, LocalModelThatCannotTakeThePromptPassesItOn) {
  remote_.Queue("/v1/chat/completions", test::JsonReply(200, kRemoteAnswer));
  ServeOptions o;
  o.routes = {"r=local:ids,openai:" + remote_.url("/v1"), "only=local:ids"};
  StartServer(o);
  // Text to a model without a tokenizer: the remote answers, and that is no failover.
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hello from remote");
  EXPECT_EQ(Metrics().find("accel_serve_failovers_total{"), std::string::npos);
  // With nothing after it, the local model's refusal is the answer.
  json k = PostJson("/v1/chat/completions", ReferenceChat("only"), 400);
  EXPECT_EQ(k["error"]["code"], "no_tokenizer") << k.dump();
}

TEST_F(RouteTest, RemoteClientErrorIsTheAnswerNotAFailover) {
  test::MockServer& remote = remote_;
  remote.Queue("/v1/chat/completions", test::JsonReply(400, R"({"error":{"message":"bad field","type":"invalid_request_error"}})"));
  ServeOptions o;
  o.routes = {"r=openai:" + remote.url("/v1") + ",local:chat"};
  StartServer(o);
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"), 400);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("bad field"), std::string::npos) << j.dump();
  EXPECT_EQ(Metrics().find("accel_serve_failovers_total{"), std::string::npos);
}

TEST_F(RouteTest, EqualPriorityPicksTheLeastBusyFromAJsonConfig) {
  test::MockServer& remote = remote_;
  remote.Queue("/v1/chat/completions", test::JsonReply(200, kRemoteAnswer));
  const fs::path config = fs::temp_directory_path() / ("route_test_" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(config);
    out << json{{"routes", {{"r", {{{"provider", "local"}, {"target", "chat"}, {"priority", 0}},
                                   {{"provider", "openai"}, {"target", remote.url("/v1")}, {"model", "upstream"}, {"priority", 0}}}}}}}.dump();
  }
  ServeOptions o;
  o.max_queue = 4;
  o.config_path = config.string();
  StartServer(o);
  fs::remove(config);
  // Both idle: the local model is first (order breaks ties).
  json a = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(a["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  // The local model has one request in: the idle remote is chosen, though the local queue has room.
  auto held = server_->registry().Find("chat")->TryAdmit();
  json b = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(b["choices"][0]["message"]["content"], "hello from remote");
  ASSERT_EQ(remote.Requests().size(), 1u);
  EXPECT_EQ(json::parse(remote.Requests()[0].body)["model"], "upstream");
  EXPECT_EQ(Metrics().find("accel_serve_failovers_total{"), std::string::npos);  // a choice, not a failover
}

// The same routes written as TOML (`--config serve.toml`): a remote first, the local model as
// the fallback when the remote's port is closed.
TEST_F(RouteTest, TomlConfigGivesTheSameRoutes) {
  const fs::path config = fs::temp_directory_path() / ("route_test_" + std::to_string(getpid()) + ".toml");
  {
    std::ofstream out(config);
    out << "# routes: NAME = ordered endpoints\n"
           "[[routes.r]]\nprovider = \"openai\"\ntarget = \"http://127.0.0.1:1/v1\"\nmodel = \"upstream\"\ntimeout_s = 2.5\n"
           "[[routes.r]]\nprovider = \"local\"\ntarget = \"chat\"\n";
  }
  ServeOptions o;
  o.config_path = config.string();
  StartServer(o);
  fs::remove(config);
  json a = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(a["choices"][0]["message"]["content"], Words(ref_.new_ids[0]));
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"r\",reason=\"connection\"} 1"), std::string::npos) << Metrics();
}

TEST_F(RouteTest, EqualPriorityRemotesPickTheOneWithFewerRequestsInFlight) {
  auto slow = test::JsonReply(200, std::string(kRemoteAnswer));
  slow.delay_ms = 800;
  remote_.Queue("/v1/chat/completions", slow);
  second_.Queue("/v1/chat/completions", test::JsonReply(200, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"from the second"},"finish_reason":"stop"}]})"));
  const fs::path config = fs::temp_directory_path() / ("route_test_busy_" + std::to_string(getpid()) + ".json");
  {
    std::ofstream out(config);
    out << json{{"routes", {{"r", {{{"provider", "openai"}, {"target", remote_.url("/v1")}, {"priority", 0}},
                                   {{"provider", "openai"}, {"target", second_.url("/v1")}, {"priority", 0}}}}}}}.dump();
  }
  ServeOptions o;
  o.config_path = config.string();
  StartServer(o);
  fs::remove(config);
  json first;
  std::thread t([&] {
    httplib::Client c("127.0.0.1", server_->port());
    auto r = c.Post("/v1/chat/completions", ReferenceChat("r").dump(), "application/json");
    if (r) first = json::parse(r->body, nullptr, false);
  });
  // The first request is in flight at the first remote (both idle, it came first in the list).
  for (int i = 0; i < 200 && remote_.RequestCount() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(remote_.RequestCount(), 1u);
  json j = PostJson("/v1/chat/completions", ReferenceChat("r"));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "from the second");
  t.join();
  EXPECT_EQ(first["choices"][0]["message"]["content"], "hello from remote");
  EXPECT_EQ(remote_.RequestCount(), 1u);
  EXPECT_EQ(second_.RequestCount(), 1u);
}

TEST_F(RouteTest, EmbeddingsFailOverBothWays) {
  const int dead = ClosedPort();
  remote_.Queue("/v1/embeddings", test::JsonReply(200, R"({"object":"list","model":"up","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]}],
    "usage":{"prompt_tokens":3,"total_tokens":3}})"));
  ServeOptions o;
  o.max_queue = 0;
  o.routes = {"e=openai:http://127.0.0.1:" + std::to_string(dead) + "/v1,local:bert", "f=local:bert,openai:" + remote_.url("/v1")};
  StartServer(o);
  const json input = {{"input", {"Hello worlds", "the cat sat"}}};
  json want = PostJson("/v1/embeddings", {{"model", "bert"}, {"input", input["input"]}});
  // A dead remote first: the local model's vectors, equal to asking it directly.
  json j = PostJson("/v1/embeddings", {{"model", "e"}, {"input", input["input"]}});
  EXPECT_EQ(j["model"], "e");
  ASSERT_EQ(j["data"].size(), 2u);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(j["data"][i]["embedding"], want["data"][i]["embedding"]);
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"e\",reason=\"connection\"} 1\n"), std::string::npos) << Metrics();
  // The local model busy: the remote's vector.
  auto held = server_->registry().Find("bert")->TryAdmit();
  json k = PostJson("/v1/embeddings", {{"model", "f"}, {"input", "Hello worlds"}});
  ASSERT_EQ(k["data"].size(), 1u);
  EXPECT_EQ(k["data"][0]["embedding"], json({0.5, 0.25}));
  EXPECT_EQ(json::parse(remote_.Requests()[0].body)["input"], json({"Hello worlds"}));
  EXPECT_NE(Metrics().find("accel_serve_failovers_total{model=\"f\",reason=\"overload\"} 1\n"), std::string::npos) << Metrics();
}

TEST(RouteSpec, FlagsAndConfigsParseOrSayWhatIsWrong) {
  auto r = ParseRouteFlag("x=local:chat,openai:http://h:1/v1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "x");
  ASSERT_EQ(r->endpoints.size(), 2u);
  EXPECT_EQ(r->endpoints[1].provider, "openai");
  EXPECT_EQ(r->endpoints[1].target, "http://h:1/v1");
  EXPECT_EQ(r->endpoints[1].priority, 1);
  EXPECT_FALSE(ParseRouteFlag("x").ok());
  EXPECT_FALSE(ParseRouteFlag("x=local").ok());
  EXPECT_FALSE(ParseRouteFlag("x=local:a,,openai:u").ok());
  EXPECT_FALSE(ParseRouteConfig("[1]", "c.json").ok());
  auto bad = ParseRouteConfig(R"({"routes":{"x":[{"provider":"openai"}]}})", "c.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("c.json: routes.x[0]"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParseRouteConfig(R"({"routes":{"x":[{"provider":"local","target":"a","priority":"high"}]}})", "c.json").ok());

  // Unknown providers and local models not served are refused when the server starts.
  ServeOptions o;
  o.port = 0;
  o.device = "cpu";
  o.models = {"llama=" + test::ModelDir("llama-tiny")};
  o.routes = {"x=nosuch:http://h/v1"};
  EXPECT_FALSE(Server::Create(o).ok());
  o.routes = {"x=local:missing"};
  EXPECT_FALSE(Server::Create(o).ok());
  o.routes = {"llama=local:llama"};
  EXPECT_FALSE(Server::Create(o).ok());
}

}  // namespace
}  // namespace accel::serve
