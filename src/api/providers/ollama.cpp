// Ollama: /api/chat (messages) and /api/generate (prompt), streamed as NDJSON objects with
// "done": true on the last (which carries prompt_eval_count/eval_count); /api/embed.
#include "api/providers/json_util.h"
#include "api/providers/provider.h"

namespace accel::api {
namespace {

std::string PromptOf(const ChatRequest& req) {
  std::string p;
  for (const Message& m : req.messages) p += (p.empty() ? "" : "\n") + m.content;
  return p;
}

class OllamaProvider : public Provider {
 public:
  const ProviderInfo& info() const override {
    static const ProviderInfo kInfo{"ollama", "http://localhost:11434", "", AuthStyle::kBearer};
    return kInfo;
  }

  ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const override {
    if (req.model.empty()) return MakeError(ErrorClass::kBadRequest, "ollama: a model is required");
    Json body;
    body["model"] = req.model;
    body["stream"] = stream;  // Ollama streams unless told not to
    if (req.raw_completion) {
      body["prompt"] = PromptOf(req);
    } else {
      Json msgs = Json::array();
      for (const Message& m : req.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
      body["messages"] = std::move(msgs);
    }
    Json options = Json::object();
    if (req.max_tokens) options["num_predict"] = *req.max_tokens;
    if (req.temperature) options["temperature"] = *req.temperature;
    if (req.top_p) options["top_p"] = *req.top_p;
    if (!req.stop.empty()) options["stop"] = req.stop;
    if (!options.empty()) body["options"] = options;
    return JsonPost(t, req.raw_completion ? "/api/generate" : "/api/chat", body.dump());
  }

  static ApiResult<ChatChunk> ReadObject(const ChatRequest& req, const Json& j, bool* done) {
    return GuardedParse("ollama", [&]() -> ApiResult<ChatChunk> {
      if (j.contains("error")) return MakeError(ErrorClass::kServer, "ollama: " + StringOr(j, "error", j["error"].dump()));
      ChatChunk c;
      if (req.raw_completion) c.text = j.at("response").get<std::string>();
      else if (j.contains("message")) c.text = StringOr(j.at("message"), "content");
      *done = j.value("done", false);
      if (*done) {
        c.finish_reason = StringOr(j, "done_reason", "stop");
        c.usage = Usage{IntOr(j, "prompt_eval_count"), IntOr(j, "eval_count")};
      }
      return c;
    });
  }

  ApiResult<ChatResponse> ParseChat(const ChatRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("ollama", r.body);
    if (!parsed.ok()) return parsed.error();
    bool done = false;
    auto c = ReadObject(req, parsed.value(), &done);
    if (!c.ok()) return c.error();
    ChatResponse out;
    out.model = StringOr(parsed.value(), "model", req.model);
    out.text = c->text;
    out.finish_reason = c->finish_reason;
    if (c->usage) out.usage = *c->usage;
    return out;
  }

  StreamFormat ChatStreamFormat(const ChatRequest&) const override { return StreamFormat::kNdjson; }

  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest& req, std::string_view, std::string_view data) const override {
    auto parsed = ParseJsonBody("ollama", data);
    if (!parsed.ok()) return parsed.error();
    bool done = false;
    auto c = ReadObject(req, parsed.value(), &done);
    if (!c.ok()) return c.error();
    StreamStep step;
    step.kind = done ? StreamStep::kDone : StreamStep::kChunk;
    step.chunk = std::move(c.value());
    return step;
  }

  ApiResult<HttpRequest> BuildEmbed(const EmbedRequest& req, const Target& t) const override {
    if (req.inputs.empty() || req.model.empty())
      return MakeError(ErrorClass::kBadRequest, "ollama: embeddings need a model and at least one input");
    return JsonPost(t, "/api/embed", Json{{"model", req.model}, {"input", req.inputs}}.dump());
  }

  ApiResult<EmbedResponse> ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("ollama", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("ollama", [&]() -> ApiResult<EmbedResponse> {
      EmbedResponse out;
      out.model = StringOr(j, "model", req.model);
      for (const Json& e : j.at("embeddings")) out.embeddings.push_back(FloatVector(e));
      if (out.embeddings.size() != req.inputs.size()) throw std::runtime_error("embedding count differs from input count");
      out.usage.prompt_tokens = IntOr(j, "prompt_eval_count");
      return out;
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeOllamaProvider() { return std::make_unique<OllamaProvider>(); }

}  // namespace accel::api
