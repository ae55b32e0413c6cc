// accel serve on loopback (a real server on an ephemeral port, real HTTP through cpp-httplib's
// client): numbers checked against the fixtures (greedy ids from token-id prompts equal
// llama-tiny's reference generate ids; embeddings equal `accel embed`), SSE and NDJSON framing,
// the per-model queue (429 + Retry-After), API keys, and errors in each API's format.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "serve/key_rate_limiter.h"
#include "serve/model_registry.h"
#include "serve/server.h"
#include "test_util.h"

namespace accel::serve {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

using test::CopyModel;
std::string MakeLlamaWithTokenizer() { return test::LlamaTinyWithWordTokenizer("serve_llama"); }
std::string MakeBertWithTokenizer() { return test::BertTinyWithTokenizer("serve_bert"); }

using Reference = test::GreedyReference;
Reference LoadReference() { return test::LoadGreedyReference("llama-tiny"); }

std::string Words(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " w" : "w") + std::to_string(ids[i]);
  return s;
}

// SSE body -> the JSON of each "data:" frame; `done` tells whether it ended with [DONE].
std::vector<json> SseFrames(const std::string& body, bool* done) {
  std::vector<json> frames;
  *done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated SSE frame at " << pos;
    if (end == std::string::npos) break;
    std::string frame = body.substr(pos, end - pos);
    pos = end + 2;
    EXPECT_EQ(frame.rfind("data: ", 0), 0u) << frame;
    std::string data = frame.substr(6);
    EXPECT_FALSE(*done) << "frame after [DONE]";
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    frames.push_back(json::parse(data));
  }
  return frames;
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    llama_dir_ = new std::string(MakeLlamaWithTokenizer());
    bert_dir_ = new std::string(MakeBertWithTokenizer());
  }
  void StartServer(ServeOptions o = {}) {
    o.port = 0;
    o.device = "cpu";
    if (o.models.empty()) o.models = {"llama=" + test::ModelDir("llama-tiny"), "chat=" + *llama_dir_, "bert=" + *bert_dir_};
    auto s = Server::Create(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    server_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }
  httplib::Result Post(const std::string& path, const json& body) { return client_->Post(path.c_str(), body.dump(), "application/json"); }
  json PostJson(const std::string& path, const json& body, int want_status = 200) {
    auto r = Post(path, body);
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  // `got`: the vectors a client received for "Hello worlds" and "the cat sat" from bert, which
  // must equal `accel embed`'s.
  void ExpectEmbedCommandVectors(const json& got) {
    auto cli = test::RunCli("embed --model " + *bert_dir_ + " --json 'Hello worlds' 'the cat sat'");
    ASSERT_EQ(cli.exit_code, 0);
    json want = json::parse(cli.out)["embeddings"];
    ASSERT_EQ(got.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      std::vector<float> a = got[i], b = want[i]["embedding"];
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5);
    }
  }

  static std::string* llama_dir_;
  static std::string* bert_dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};
std::string* ServeTest::llama_dir_ = nullptr;
std::string* ServeTest::bert_dir_ = nullptr;

TEST_F(ServeTest, ListsModelsAndAnswersHealthAndInfo) {
  StartServer();
  auto r = client_->Get("/v1/models");
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  std::vector<std::string> ids;
  for (const auto& m : j["data"]) ids.push_back(m["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"llama", "chat", "bert"}));
  r = client_->Get("/api/tags");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["models"].size(), 3u);
  r = client_->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = client_->Get("/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["model_id"], "bert");  // the only embedding model
}

TEST_F(ServeTest, GreedyCompletionsFromTokenIdsEqualTheReferenceIds) {
  StartServer();
  Reference ref = LoadReference();
  ASSERT_FALSE(ref.prompts.empty());
  for (size_t b = 0; b < ref.prompts.size(); ++b) {
    json j = PostJson("/v1/completions", {{"model", "llama"}, {"prompt", ref.prompts[b]}, {"max_tokens", ref.new_ids[b].size()}, {"temperature", 0}});
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["choices"][0]["token_ids"].get<std::vector<int64_t>>(), ref.new_ids[b]) << "row " << b;
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["prompt_tokens"], ref.prompts[b].size());
    EXPECT_EQ(j["usage"]["completion_tokens"], ref.new_ids[b].size());
  }
}

TEST_F(ServeTest, StreamedCompletionIsSseEndingInDoneWithUsage) {
  StartServer();
  Reference ref = LoadReference();
  auto r = Post("/v1/completions", {{"model", "llama"}, {"prompt", json::array({ref.prompts[0]})}, {"max_tokens", ref.new_ids[0].size()},
                                    {"temperature", 0}, {"stream", true}, {"stream_options", {{"include_usage", true}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  bool done = false;
  auto frames = SseFrames(r->body, &done);
  EXPECT_TRUE(done);
  ASSERT_GE(frames.size(), 2u);
  std::vector<int64_t> ids;
  for (size_t i = 0; i + 2 < frames.size(); ++i) {
    EXPECT_TRUE(frames[i]["usage"].is_null());
    for (int64_t t : frames[i]["choices"][0]["token_ids"]) ids.push_back(t);
  }
  EXPECT_EQ(ids, ref.new_ids[0]);
  EXPECT_EQ(frames[frames.size() - 2]["choices"][0]["finish_reason"], "length");
  const json& last = frames.back();  // include_usage: a last chunk with no choices and the usage
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], ref.new_ids[0].size());
  EXPECT_EQ(last["usage"]["total_tokens"], ref.new_ids[0].size() + ref.prompts[0].size());
}

TEST_F(ServeTest, ChatThroughTheTemplateAndTokenizerStreamedAndNot) {
  StartServer();
  Reference ref = LoadReference();
  const std::string want = Words(ref.new_ids[0]);
  json req = {{"model", "chat"}, {"messages", {{{"role", "user"}, {"content", Words(ref.prompts[0])}}}}, {"max_tokens", ref.new_ids[0].size()},
              {"temperature", 0}, {"seed", 7}};
  json j = PostJson("/v1/chat/completions", req);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], want);
  EXPECT_EQ(j["usage"]["prompt_tokens"], ref.prompts[0].size());

  req["stream"] = true;
  auto r = Post("/v1/chat/completions", req);
  ASSERT_TRUE(r);
  bool done = false;
  auto frames = SseFrames(r->body, &done);
  EXPECT_TRUE(done);
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (const auto& f : frames) {
    EXPECT_EQ(f["object"], "chat.completion.chunk");
    EXPECT_EQ(f["id"], frames[0]["id"]);
    if (f["choices"][0]["delta"].contains("content")) text += f["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, want);
  EXPECT_EQ(frames.back()["choices"][0]["finish_reason"], "length");

  // A stop string: the text ends before it, finish_reason "stop".
  req["stream"] = false;
  req["stop"] = "w85";
  j = PostJson("/v1/chat/completions", req);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["message"]["content"].get<std::string>().find("w85"), std::string::npos);
}

TEST_F(ServeTest, OllamaChatStreamsNdjsonAndGenerateAnswersOnce) {
  StartServer();
  Reference ref = LoadReference();
  const std::string want = Words(ref.new_ids[0]);
  json opts = {{"temperature", 0}, {"num_predict", ref.new_ids[0].size()}};
  auto r = Post("/api/chat", {{"model", "chat"}, {"messages", {{{"role", "user"}, {"content", Words(ref.prompts[0])}}}}, {"options", opts}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/x-ndjson", 0), 0u);
  std::istringstream lines(r->body);
  std::string line, text;
  std::vector<json> objs;
  while (std::getline(lines, line)) objs.push_back(json::parse(line));
  ASSERT_GE(objs.size(), 2u);
  for (size_t i = 0; i + 1 < objs.size(); ++i) {
    EXPECT_FALSE(objs[i]["done"].get<bool>());
    text += objs[i]["message"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, want);
  EXPECT_TRUE(objs.back()["done"].get<bool>());
  EXPECT_EQ(objs.back()["done_reason"], "length");
  EXPECT_EQ(objs.back()["eval_count"], ref.new_ids[0].size());

  json j = PostJson("/api/generate", {{"model", "chat"}, {"prompt", Words(ref.prompts[0])}, {"raw", true}, {"stream", false}, {"options", opts}});
  EXPECT_EQ(j["response"], want);
  EXPECT_TRUE(j["done"].get<bool>());
}

// TGI's SSE: "data:{json}" frames (no space after the colon, as TGI writes them).
std::vector<json> TgiEvents(const std::string& body) {
  std::vector<json> events;
  for (size_t pos = 0, end; pos < body.size() && (end = body.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
    const std::string frame = body.substr(pos, end - pos);
    EXPECT_EQ(frame.rfind("data:", 0), 0u) << frame;
    events.push_back(json::parse(frame.substr(5)));
  }
  return events;
}

TEST_F(ServeTest, TgiGenerateAndStreamGiveTheReferenceTokensWithDetails) {
  ServeOptions o;
  o.models = {"chat=" + *llama_dir_, "bert=" + *bert_dir_};  // one generator: TGI requests name none
  StartServer(o);
  Reference ref = LoadReference();
  const std::string want = Words(ref.new_ids[0]);
  const json params = {{"max_new_tokens", ref.new_ids[0].size()}, {"details", true}, {"seed", 7}};
  json j = PostJson("/generate", {{"inputs", Words(ref.prompts[0])}, {"parameters", params}});
  EXPECT_EQ(j["generated_text"], want);  // greedy: no sampling parameter given
  EXPECT_EQ(j["details"]["finish_reason"], "length");
  EXPECT_EQ(j["details"]["generated_tokens"], ref.new_ids[0].size());
  EXPECT_EQ(j["details"]["seed"], 7);
  std::vector<int64_t> ids;
  for (const auto& t : j["details"]["tokens"]) ids.push_back(t["id"]);
  EXPECT_EQ(ids, ref.new_ids[0]);

  auto r = Post("/generate_stream", {{"inputs", Words(ref.prompts[0])}, {"parameters", params}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  auto events = TgiEvents(r->body);
  ASSERT_EQ(events.size(), ref.new_ids[0].size());
  ids.clear();
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["index"], i + 1);
    ids.push_back(events[i]["token"]["id"]);
    text += events[i]["token"]["text"].get<std::string>();
    if (i + 1 < events.size()) {
      EXPECT_TRUE(events[i]["generated_text"].is_null());
    }
  }
  EXPECT_EQ(ids, ref.new_ids[0]);
  EXPECT_EQ(text, want);
  EXPECT_EQ(events.back()["generated_text"], want);
  EXPECT_EQ(events.back()["details"]["finish_reason"], "length");

  // "/" answers once or streams, by "stream"; return_full_text starts with the prompt.
  j = PostJson("/", {{"inputs", Words(ref.prompts[0])}, {"parameters", {{"max_new_tokens", 2}, {"return_full_text", true}}}});
  EXPECT_EQ(j["generated_text"], Words(ref.prompts[0]) + Words({ref.new_ids[0][0], ref.new_ids[0][1]}));
  r = Post("/", {{"inputs", Words(ref.prompts[0])}, {"stream", true}, {"parameters", {{"max_new_tokens", 2}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(TgiEvents(r->body).size(), 2u);

  // A stop sequence ends with TGI's reason for it.
  const std::string third = "w" + std::to_string(ref.new_ids[0][2]);
  j = PostJson("/generate", {{"inputs", Words(ref.prompts[0])}, {"parameters", {{"max_new_tokens", 8}, {"stop", {third}}, {"details", true}}}});
  EXPECT_EQ(j["details"]["finish_reason"], "stop_sequence");
  EXPECT_EQ(j["generated_text"].get<std::string>().find(third), std::string::npos);

  // This prompt ends at llama-tiny's end-of-sequence token (id 2), which TGI marks special.
  j = PostJson("/generate", {{"inputs", "w1 w192 w108"}, {"parameters", {{"max_new_tokens", 8}, {"details", true}}}});
  EXPECT_EQ(j["details"]["finish_reason"], "eos_token");
  EXPECT_EQ(j["details"]["tokens"].back()["id"], 2);
  EXPECT_TRUE(j["details"]["tokens"].back()["special"].get<bool>());
  EXPECT_FALSE(j["details"]["tokens"].front()["special"].get<bool>());
  r = Post("/generate_stream", {{"inputs", "w1 w192 w108"}, {"parameters", {{"max_new_tokens", 8}}}});
  ASSERT_TRUE(r);
  events = TgiEvents(r->body);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.back()["token"]["special"].get<bool>());
  EXPECT_EQ(events.back()["details"]["finish_reason"], "eos_token");

  // Errors in TGI's format.
  j = PostJson("/generate", {{"parameters", params}}, 400);
  EXPECT_EQ(j["error_type"], "validation");
  EXPECT_NE(j["error"].get<std::string>().find("inputs"), std::string::npos) << j;
  j = PostJson("/generate", {{"inputs", "w1"}, {"parameters", {{"max_new_tokens", 0}}}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("max_new_tokens"), std::string::npos) << j;
  j = PostJson("/generate", {{"inputs", "w1"}, {"parameters", {{"temperature", 0}}}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("temperature"), std::string::npos) << j;
  j = PostJson("/generate", {{"inputs", "w1"}, {"model", "bert"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("embedding model"), std::string::npos) << j;
}

TEST_F(ServeTest, TgiRequestsNameAModelWhenSeveralGenerate) {
  StartServer();  // llama and chat both generate
  json j = PostJson("/generate", {{"inputs", "w1 w2"}}, 400);
  EXPECT_NE(j["error"].get<std::string>().find("name one with \"model\""), std::string::npos) << j;
  j = PostJson("/generate", {{"inputs", "w1 w2"}, {"model", "chat"}, {"parameters", {{"max_new_tokens", 3}}}});
  EXPECT_TRUE(j["generated_text"].is_string()) << j;
  j = PostJson("/generate", {{"inputs", "w1 w2"}, {"model", "llama"}}, 400);  // the bare fixture has no tokenizer
  EXPECT_NE(j["error"].get<std::string>().find("no tokenizer"), std::string::npos) << j;
}

TEST_F(ServeTest, EmbeddingsEqualTheEmbedCommandInEveryFormat) {
  StartServer();
  auto cli = test::RunCli("embed --model " + *bert_dir_ + " --json 'Hello worlds' 'the cat sat'");
  ASSERT_EQ(cli.exit_code, 0) << cli.out;
  json want = json::parse(cli.out)["embeddings"];
  auto near = [](const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
  };
  std::vector<float> e0 = want[0]["embedding"], e1 = want[1]["embedding"];

  json j = PostJson("/v1/embeddings", {{"model", "bert"}, {"input", {"Hello worlds", "the cat sat"}}});
  ASSERT_EQ(j["data"].size(), 2u);
  near(j["data"][0]["embedding"], e0);
  near(j["data"][1]["embedding"], e1);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 10);  // [CLS] hello world ##s [SEP] + [CLS] the cat sat [SEP]

  // Token ids: [CLS] hello world ##s [SEP] is "Hello worlds".
  j = PostJson("/v1/embeddings", {{"model", "bert"}, {"input", json::array({json::array({2, 4, 5, 6, 3})})}});
  near(j["data"][0]["embedding"], e0);

  // base64: little-endian f32.
  j = PostJson("/v1/embeddings", {{"model", "bert"}, {"input", "Hello worlds"}, {"encoding_format", "base64"}});
  std::string b64 = j["data"][0]["embedding"];
  std::string bytes;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) bytes += static_cast<char>((acc >> (bits - 8)) & 0xff), bits -= 8;
  }
  std::vector<float> decoded(bytes.size() / 4);
  std::memcpy(decoded.data(), bytes.data(), decoded.size() * 4);
  near(decoded, e0);

  j = PostJson("/api/embed", {{"model", "bert"}, {"input", {"Hello worlds"}}});
  near(j["embeddings"][0], e0);
  auto r = Post("/embed", {{"inputs", "the cat sat"}});
  ASSERT_TRUE(r);
  near(json::parse(r->body)[0], e1);
}

TEST_F(ServeTest, BadRequestsGetErrorsInTheCalledApisFormat) {
  ServeOptions o;
  o.max_body_bytes = 64 << 10;
  StartServer(o);
  auto openai_error = [&](const std::string& path, const std::string& body, int status, const std::string& code) {
    auto r = client_->Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(r) << path << " " << body.substr(0, 80);
    EXPECT_EQ(r->status, status) << body.substr(0, 80) << " -> " << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_object()) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
    if (!code.empty()) {
      EXPECT_EQ(j["error"]["code"], code) << r->body;
    }
  };
  openai_error("/v1/chat/completions", "{not json", 400, "");
  openai_error("/v1/chat/completions", "[1,2]", 400, "");
  openai_error("/v1/chat/completions", R"({"model":"chat","messages":"hi"})", 400, "invalid_messages");
  openai_error("/v1/chat/completions", R"({"model":"chat","messages":[{"role":"user","content":"w1"}],"max_tokens":"8"})", 400, "invalid_max_tokens");
  openai_error("/v1/chat/completions", R"({"model":"chat","messages":[{"role":"user","content":"w1"}],"temperature":9})", 400, "invalid_temperature");
  openai_error("/v1/chat/completions", R"({"model":"nope","messages":[{"role":"user","content":"w1"}]})", 404, "model_not_found");
  openai_error("/v1/chat/completions", R"({"model":"bert","messages":[{"role":"user","content":"w1"}]})", 400, "model_not_supported");
  openai_error("/v1/chat/completions", R"({"model":"llama","messages":[{"role":"user","content":"w1"}]})", 400, "no_tokenizer");
  openai_error("/v1/completions", R"({"model":"llama","prompt":[1,-2]})", 400, "invalid_prompt");
  openai_error("/v1/completions", R"({"model":"llama","prompt":[1,99999]})", 400, "invalid_token");
  openai_error("/v1/embeddings", R"({"model":"bert","input":{}})", 400, "invalid_input");
  openai_error("/v1/embeddings", R"({"model":"bert","input":"x","encoding_format":"int8"})", 400, "invalid_encoding_format");
  // A prompt over the context: llama-tiny's positions.
  json long_prompt = json::array();
  for (int i = 0; i < 5000; ++i) long_prompt.push_back(5);
  openai_error("/v1/completions", json{{"model", "llama"}, {"prompt", long_prompt}}.dump(), 400, "context_length_exceeded");
  // A body over --max-body: 413, still a JSON error.
  openai_error("/v1/completions", json{{"model", "llama"}, {"prompt", std::string(100 << 10, 'a')}}.dump(), 413, "");

  // Ollama: {"error": "..."}.
  auto r = client_->Post("/api/chat", R"({"model":"nope","messages":[{"role":"user","content":"x"}]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  r = client_->Post("/api/embed", R"({"model":"bert","input":7})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  // Unknown route under /v1: an OpenAI error object.
  r = client_->Get("/v1/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body)["error"].is_object());
  // Still serving.
  EXPECT_EQ(client_->Get("/health")->status, 200);
}

TEST_F(ServeTest, FullQueueAnswers429WithRetryAfterAndMetricsShowIt) {
  ServeOptions o;
  o.max_queue = 1;
  o.parallel = 1;
  StartServer(o);
  ServedModel* m = server_->registry().Find("llama");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->max_running(), 1);
  // This test holds the model's one batch slot and its one queue place: the next request is refused.
  auto running = m->TryAdmit(), waiting = m->TryAdmit();
  ASSERT_TRUE(running && waiting);
  EXPECT_FALSE(m->TryAdmit());
  json req = {{"model", "llama"}, {"prompt", {1, 192, 108}}, {"max_tokens", 2}, {"temperature", 0}};
  auto r = Post("/v1/completions", req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "queue_full");
  json streamed = req;
  streamed["stream"] = true;  // refused before the stream starts: a plain 429 too
  r = Post("/v1/completions", streamed);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(json::parse(r->body)["error"]["type"], "server_busy");
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("accel_queue_depth{model=\"llama\"} 2"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("accel_rejected_total{model=\"llama\"} 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("accel_batch_slots{model=\"llama\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("accel_kv_cache_tokens{model=\"llama\"} 0"), std::string::npos);
  running.reset();  // a place is free again
  r = Post("/v1/completions", req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  waiting.reset();
  EXPECT_EQ(m->in_flight(), 0);
  metrics = client_->Get("/metrics");
  EXPECT_NE(metrics->body.find("accel_generated_tokens_total{model=\"llama\"} 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("accel_request_duration_seconds_count{route=\"/v1/completions\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("accel_time_to_first_token_seconds_count{model=\"llama\"} 1"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("accel_prefills_total{model=\"llama\"} 1"), std::string::npos);
  // The whole context of the slot is allocated on first use and stays for the next sequence.
  EXPECT_NE(metrics->body.find("accel_kv_cache_capacity_tokens{model=\"llama\"} 64"), std::string::npos);
}

// Continuous batching over HTTP: streams that arrive while others run join the running batch,
// and each still produces the reference tokens.
TEST_F(ServeTest, ConcurrentStreamsShareDecodeStepsAndKeepTheirTokens) {
  ServeOptions o;
  o.parallel = 4;
  StartServer(o);
  const Reference ref = LoadReference();
  ASSERT_FALSE(ref.prompts.empty());
  constexpr int kClients = 6;
  std::vector<std::vector<int64_t>> got(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      const size_t i = static_cast<size_t>(c) % ref.prompts.size();
      json req = {{"model", "llama"}, {"prompt", ref.prompts[i]}, {"max_tokens", ref.new_ids[i].size()},
                  {"temperature", 0}, {"stream", true}};
      httplib::Client cl("127.0.0.1", server_->port());
      cl.set_read_timeout(60, 0);
      auto r = cl.Post("/v1/completions", req.dump(), "application/json");
      if (!r || r->status != 200) return;
      size_t pos = 0;
      for (size_t end; (end = r->body.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
        const std::string data = r->body.substr(pos + 6, end - pos - 6);
        if (data == "[DONE]") break;
        json j = json::parse(data);
        for (const auto& t : j["choices"][0].value("token_ids", json::array())) got[c].push_back(t.get<int64_t>());
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(got[c], ref.new_ids[static_cast<size_t>(c) % ref.prompts.size()]) << "client " << c;
  const std::string metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("accel_prefills_total{model=\"llama\"} 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("accel_kv_cache_tokens{model=\"llama\"} 0"), std::string::npos);  // every slot freed
}

// Dynamic batching: embedding requests that wait for a busy model run as one forward once it is
// free, and each gets the vectors it would have got alone.
TEST_F(ServeTest, WaitingEmbeddingRequestsRunAsOneBatch) {
  ServeOptions o;
  o.max_embed_batch = 64;
  StartServer(o);
  ServedModel* m = server_->registry().Find("bert");
  ASSERT_NE(m, nullptr);
  const std::vector<std::string> texts = {"Hello worlds", "the cat sat", "a much longer sentence than the others here", "hi"};
  std::vector<json> alone;
  for (const auto& t : texts) alone.push_back(PostJson("/v1/embeddings", {{"model", "bert"}, {"input", t}}));
  auto held = m->TryAdmit();  // the model is busy while the requests arrive
  ASSERT_TRUE(held);
  held->Run();
  std::vector<json> together(texts.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < texts.size(); ++i) {
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(60, 0);
      // Alternating APIs: batching is the model's, whichever route the request came by.
      auto r = i % 2 ? c.Post("/embed", json({{"inputs", texts[i]}}).dump(), "application/json")
                     : c.Post("/v1/embeddings", json({{"model", "bert"}, {"input", texts[i]}}).dump(), "application/json");
      if (r && r->status == 200) together[i] = json::parse(r->body);
    });
  }
  for (int i = 0; i < 2000 && m->queued() < static_cast<int>(texts.size()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(m->queued(), static_cast<int>(texts.size()));
  held.reset();
  for (auto& c : clients) c.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    std::vector<float> a = alone[i]["data"][0]["embedding"];
    ASSERT_FALSE(together[i].is_null());
    std::vector<float> b = i % 2 ? together[i][0].get<std::vector<float>>() : together[i]["data"][0]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5);
    if (i % 2 == 0) {
      EXPECT_EQ(together[i]["usage"]["prompt_tokens"], alone[i]["usage"]["prompt_tokens"]);
    }
  }
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  // Four alone, then one forward for the four that waited.
  EXPECT_NE(metrics->body.find("accel_embed_batches_total{model=\"bert\"} 5"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("accel_embed_batched_requests_total{model=\"bert\"} 8"), std::string::npos) << metrics->body;
}

TEST_F(ServeTest, ClientThatLeavesMidStreamFreesTheModel) {
  StartServer();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", "application/json");
  req.body = json{{"model", "llama"}, {"prompt", {1, 192, 108}}, {"max_tokens", 100}, {"temperature", 0}, {"stream", true}}.dump();
  int chunks = 0;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 2; };  // hang up after one chunk
  auto r = client_->send(req);
  EXPECT_GE(chunks, 1);
  ServedModel* m = server_->registry().Find("llama");
  for (int i = 0; i < 2000 && m->in_flight() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(m->in_flight(), 0);
  json j = PostJson("/v1/completions", {{"model", "llama"}, {"prompt", {1, 192, 108}}, {"max_tokens", 2}, {"temperature", 0}});
  EXPECT_EQ(j["choices"][0]["token_ids"].size(), 2u);
}

// A client that sends half a request and then nothing is dropped after --read-timeout, and the
// server keeps answering others meanwhile.
TEST_F(ServeTest, SlowClientIsDroppedAfterTheReadTimeout) {
  ServeOptions o;
  o.read_timeout_s = 1;
  o.keep_alive_timeout_s = 1;  // after the failed read httplib answers and waits this long for a next request
  StartServer(o);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  EXPECT_EQ(client_->Get("/health")->status, 200);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  char buf[4096];
  ssize_t n;
  std::string got;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, n);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  EXPECT_EQ(n, 0) << "the server should close the connection; got: " << got;
  std::printf("slow client: dropped after %.1f s, answer: %s\n", waited, got.substr(0, got.find('\r')).c_str());
  EXPECT_LT(waited, 5.0);
  EXPECT_EQ(client_->Get("/health")->status, 200);
}

TEST_F(ServeTest, OllamaAndTeiAnswer429InTheirFormat) {
  ServeOptions o;
  o.max_queue = 0;
  StartServer(o);
  auto held = server_->registry().Find("bert")->TryAdmit();
  ASSERT_TRUE(held);
  auto r = Post("/api/embed", {{"model", "bert"}, {"input", "the cat"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  r = Post("/embed", {{"inputs", "the cat"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(json::parse(r->body)["error_type"], "overloaded");
  held.reset();
  EXPECT_EQ(Post("/embed", {{"inputs", "the cat"}})->status, 200);
}

TEST_F(ServeTest, ApiKeysAreRequiredWhenGiven) {
  ServeOptions o;
  o.api_keys = {"sekret-1", "sekret-2"};
  StartServer(o);
  auto r = client_->Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "invalid_api_key");
  r = client_->Get("/v1/models", {{"Authorization", "Bearer sekret-3"}});
  EXPECT_EQ(r->status, 401);
  r = client_->Get("/v1/models", {{"Authorization", "Bearer sekret-2"}});
  EXPECT_EQ(r->status, 200);
  r = client_->Get("/api/tags");
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  EXPECT_EQ(client_->Get("/health")->status, 200);
}

TEST_F(ServeTest, EachApiKeyHasItsOwnRateLimit) {
  ServeOptions o;
  o.api_keys = {"sekret-1", "sekret-2"};
  o.key_rate_per_minute = 2;
  StartServer(o);
  const httplib::Headers one = {{"Authorization", "Bearer sekret-1"}}, two = {{"Authorization", "Bearer sekret-2"}};
  EXPECT_EQ(client_->Get("/v1/models", one)->status, 200);
  EXPECT_EQ(client_->Get("/api/tags", one)->status, 200);
  auto r = client_->Get("/v1/models", one);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "30");  // one request back every 30 s
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(r->body.find("sekret"), std::string::npos) << r->body;
  r = client_->Get("/api/tags", one);
  EXPECT_EQ(r->status, 429);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());  // Ollama's format on Ollama's route
  EXPECT_EQ(client_->Get("/health")->status, 200);         // no key, no limit
  EXPECT_EQ(client_->Get("/v1/models", two)->status, 200);  // the other key has its own bucket
  r = client_->Get("/metrics", two);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("accel_requests_total{route=\"rate_limited\",status=\"429\"} 2"), std::string::npos) << r->body;
}

TEST(KeyRateLimiter, RefillsContinuouslyUpToAMinutesWorth) {
  using namespace std::chrono_literals;
  const auto t0 = KeyRateLimiter::Clock::now();
  KeyRateLimiter limits(2, 60);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(limits.TryTake(0, t0), 0) << i;
  EXPECT_EQ(limits.TryTake(0, t0), 1);
  EXPECT_EQ(limits.TryTake(1, t0), 0);  // key 1 is untouched
  EXPECT_EQ(limits.TryTake(0, t0 + 1s), 0);
  EXPECT_EQ(limits.TryTake(0, t0 + 1s), 1);
  EXPECT_EQ(limits.TryTake(0, t0 + 1500ms), 1);  // half a request back: still a second to wait
  for (int i = 0; i < 60; ++i) EXPECT_EQ(limits.TryTake(0, t0 + 1h), 0) << i;  // capped at 60
  EXPECT_EQ(limits.TryTake(0, t0 + 1h), 1);
  KeyRateLimiter off(1, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(off.TryTake(0, t0), 0);
  KeyRateLimiter slow(1, 2);
  EXPECT_EQ(slow.TryTake(0, t0), 0);
  EXPECT_EQ(slow.TryTake(0, t0), 0);
  EXPECT_EQ(slow.TryTake(0, t0), 30);
}

// The official `openai` npm client (installed by scripts/setup.sh into tools/node; skipped
// without node or the package) against the server: the same numbers as above.
fs::path RepoRoot() { return fs::path(test::DataDir()).parent_path().parent_path(); }

// Where scripts/setup.sh installs an npm client (tools/node, or $ACCEL_NODE_TOOLS); empty, with
// the reason in `why`, when node or the package is missing.
fs::path NodeModule(const std::string& package, std::string* why) {
  const char* env = std::getenv("ACCEL_NODE_TOOLS");
  const fs::path module = fs::path(env ? env : (RepoRoot() / "tools/node").string()) / "node_modules" / package;
  if (std::system("node --version > /dev/null 2>&1") != 0) {
    *why = "node is not installed";
    return {};
  }
  if (!fs::exists(module / "package.json")) {
    *why = "no " + package + " npm package at " + module.string() + " (scripts/setup.sh installs it)";
    return {};
  }
  return module;
}

// Runs a node client (stdout and stderr) without RunShell's address-space cap, which V8's
// reservations exceed.
std::string RunNode(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return "popen failed";
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST_F(ServeTest, OfficialOpenAiNodeClient) {
  const fs::path root = RepoRoot();
  std::string why;
  const fs::path module = NodeModule("openai", &why);
  if (module.empty()) GTEST_SKIP() << why;
  ServeOptions o;
  o.api_keys = {"test-key"};
  StartServer(o);
  Reference ref = LoadReference();
  std::string ids;
  for (int64_t t : ref.prompts[0]) ids += (ids.empty() ? "" : ",") + std::to_string(t);
  const std::string script = (root / "tests/serve/openai_client.cjs").string();
  std::string cmd = "OPENAI_MODULE='" + module.string() + "' node '" + script + "' http://127.0.0.1:" + std::to_string(server_->port()) +
                    "/v1 chat llama bert '" + Words(ref.prompts[0]) + "' " + std::to_string(ref.new_ids[0].size()) + " " + ids + " 2>&1";
  int status = 0;
  const std::string out = RunNode(cmd, &status);
  ASSERT_EQ(status, 0) << out;
  json j = json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_EQ(j["models"], json({"llama", "chat", "bert"}));
  const std::string want = Words(ref.new_ids[0]);
  EXPECT_EQ(j["chat"], want);
  EXPECT_EQ(j["chat_stream"], want);
  EXPECT_EQ(j["chat_stream_usage"]["completion_tokens"], ref.new_ids[0].size());
  EXPECT_EQ(j["completion_ids"].get<std::vector<int64_t>>(), ref.new_ids[0]);
  ExpectEmbedCommandVectors(j["embeddings"]);
  EXPECT_EQ(j["unknown_model"]["status"], 404);
  EXPECT_EQ(j["unknown_model"]["code"], "model_not_found");
}

// The official `ollama` npm client (installed beside openai): chat and generate, streamed and
// not, with the reference words; embeddings equal `accel embed`; an unknown model is its error.
TEST_F(ServeTest, OfficialOllamaNodeClient) {
  std::string why;
  const fs::path module = NodeModule("ollama", &why);
  if (module.empty()) GTEST_SKIP() << why;
  StartServer();
  Reference ref = LoadReference();
  const std::string script = (RepoRoot() / "tests/serve/ollama_client.cjs").string();
  int status = 0;
  const std::string out = RunNode("OLLAMA_MODULE='" + module.string() + "' timeout 120 node '" + script + "' http://127.0.0.1:" +
                                  std::to_string(server_->port()) + " chat bert '" + Words(ref.prompts[0]) + "' " +
                                  std::to_string(ref.new_ids[0].size()) + " 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  json j = json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_EQ(j["models"], json({"llama", "chat", "bert"}));
  const std::string want = Words(ref.new_ids[0]);
  EXPECT_EQ(j["generate"], want);
  EXPECT_EQ(j["generate_stream"], want);
  EXPECT_EQ(j["chat_done_reason"], "length");
  EXPECT_EQ(j["chat_eval_count"], ref.new_ids[0].size());
  EXPECT_EQ(j["chat"], want);  // the chat template writes the message as it is
  EXPECT_EQ(j["chat_stream"], want);
  EXPECT_EQ(j["chat_stream_done_reason"], "length");
  ExpectEmbedCommandVectors(j["embeddings"]);
  EXPECT_EQ(j["unknown_model"]["status"], 404);
  EXPECT_NE(j["unknown_model"]["error"].get<std::string>().find("no-such-model"), std::string::npos) << j["unknown_model"];
}

TEST(ServeModelSpec, NamesFromFolderFileOrExplicit) {
  EXPECT_EQ(ParseModelSpec("/a/b/llama-tiny/").value().name, "llama-tiny");
  EXPECT_EQ(ParseModelSpec("/m/qwen.gguf").value().name, "qwen");
  auto s = ParseModelSpec("x=/a/b").value();
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.path, "/a/b");
  EXPECT_FALSE(ParseModelSpec("=/a").ok());
}

}  // namespace
}  // namespace accel::serve
