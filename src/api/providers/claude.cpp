// Anthropic Messages API: POST /v1/messages with x-api-key and anthropic-version; system text
// travels outside the messages; streaming is SSE with typed events (message_start,
// content_block_delta, message_delta, message_stop, ping, error).
#include "api/providers/json_util.h"
#include "api/providers/provider.h"

namespace accel::api {
namespace {

constexpr int kDefaultMaxTokens = 1024;  // the API requires max_tokens

class ClaudeProvider : public Provider {
 public:
  const ProviderInfo& info() const override {
    static const ProviderInfo kInfo{"claude", "https://api.anthropic.com", "ANTHROPIC_API_KEY", AuthStyle::kXApiKey};
    return kInfo;
  }

  ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const override {
    if (req.model.empty()) return MakeError(ErrorClass::kBadRequest, "claude: a model is required");
    Json body;
    body["model"] = req.model;
    body["max_tokens"] = req.max_tokens.value_or(kDefaultMaxTokens);
    std::string system;
    Json msgs = Json::array();
    for (const Message& m : req.messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n") + m.content;
      } else {
        msgs.push_back({{"role", m.role}, {"content", m.content}});
      }
    }
    if (!system.empty()) body["system"] = system;
    body["messages"] = std::move(msgs);
    if (req.temperature) body["temperature"] = *req.temperature;
    if (req.top_p) body["top_p"] = *req.top_p;
    if (!req.stop.empty()) body["stop_sequences"] = req.stop;
    if (stream) body["stream"] = true;
    HttpRequest http = JsonPost(t, "/v1/messages", body.dump());
    http.headers.emplace_back("anthropic-version", "2023-06-01");
    return http;
  }

  ApiResult<ChatResponse> ParseChat(const ChatRequest&, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("claude", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("claude", [&]() -> ApiResult<ChatResponse> {
      ChatResponse out;
      out.id = StringOr(j, "id");
      out.model = StringOr(j, "model");
      for (const Json& block : j.at("content"))
        if (StringOr(block, "type") == "text") out.text += block.at("text").get<std::string>();
      out.finish_reason = StringOr(j, "stop_reason");
      const Json& u = j.at("usage");
      out.usage.prompt_tokens = IntOr(u, "input_tokens");
      out.usage.completion_tokens = IntOr(u, "output_tokens");
      return out;
    });
  }

  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest&, std::string_view event,
                                         std::string_view data) const override {
    auto parsed = ParseJsonBody("claude", data);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("claude", [&]() -> ApiResult<StreamStep> {
      StreamStep step;
      std::string type = StringOr(j, "type", std::string(event));
      if (type == "content_block_delta") {
        step.kind = StreamStep::kChunk;
        step.chunk.text = StringOr(j.at("delta"), "text");
      } else if (type == "message_start") {
        step.kind = StreamStep::kChunk;
        const Json& u = j.at("message").at("usage");
        step.chunk.usage = Usage{IntOr(u, "input_tokens"), IntOr(u, "output_tokens")};
      } else if (type == "message_delta") {
        step.kind = StreamStep::kChunk;
        step.chunk.finish_reason = StringOr(j.at("delta"), "stop_reason");
        if (j.contains("usage")) step.chunk.usage = Usage{0, IntOr(j["usage"], "output_tokens")};
      } else if (type == "message_stop") {
        step.kind = StreamStep::kDone;
      } else if (type == "error") {
        // Mid-stream errors (e.g. overloaded_error) come as an event, not an HTTP status.
        const Json& e = j.at("error");
        std::string etype = StringOr(e, "type");
        ErrorClass cls = etype == "overloaded_error" || etype == "rate_limit_error" ? ErrorClass::kRateLimited
                                                                                    : ErrorClass::kServer;
        return MakeError(cls, "claude stream error: " + etype + ": " + StringOr(e, "message"));
      }
      return step;  // ping, content_block_start/stop: nothing to report
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeClaudeProvider() { return std::make_unique<ClaudeProvider>(); }

}  // namespace accel::api
