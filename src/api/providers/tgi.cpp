// Hugging Face text-generation-inference: chat goes to its OpenAI-compatible Messages API
// (/v1/chat/completions); raw completions to /generate and /generate_stream (SSE events
// {"token":{"text"},"generated_text":null|"...","details":{...}}).
#include "api/providers/json_util.h"
#include "api/providers/openai_compatible.h"
#include "api/providers/openai_format.h"

namespace accel::api {
namespace {

std::string PromptOf(const ChatRequest& req) {
  std::string p;
  for (const Message& m : req.messages) p += (p.empty() ? "" : "\n") + m.content;
  return p;
}

class TgiProvider : public OpenAICompatibleProvider {
 public:
  TgiProvider() : OpenAICompatibleProvider({"tgi", "http://localhost:8080", "HF_TOKEN", AuthStyle::kBearer}, "/v1") {}

  ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const override {
    if (!req.raw_completion) {
      // TGI serves one model; the Messages API still wants a model field.
      ChatRequest copy = req;
      if (copy.model.empty()) copy.model = "tgi";
      return OpenAICompatibleProvider::BuildChat(copy, stream, t);
    }
    Json params = {{"details", true}};
    if (req.max_tokens) params["max_new_tokens"] = *req.max_tokens;
    if (req.temperature) params["temperature"] = *req.temperature;
    if (req.top_p) params["top_p"] = *req.top_p;
    if (!req.stop.empty()) params["stop"] = req.stop;
    Json body = {{"inputs", PromptOf(req)}, {"parameters", params}};
    return JsonPost(t, stream ? "/generate_stream" : "/generate", body.dump());
  }

  ApiResult<ChatResponse> ParseChat(const ChatRequest& req, const HttpResponse& r) const override {
    if (!req.raw_completion) return OpenAICompatibleProvider::ParseChat(req, r);
    auto parsed = ParseJsonBody("tgi", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("tgi", [&]() -> ApiResult<ChatResponse> {
      // /generate answers an object; some deployments answer a one-element array.
      const Json& obj = j.is_array() ? j.at(0) : j;
      ChatResponse out;
      out.model = req.model;
      out.text = obj.at("generated_text").get<std::string>();
      if (obj.contains("details") && obj["details"].is_object()) {
        out.finish_reason = StringOr(obj["details"], "finish_reason");
        out.usage.completion_tokens = IntOr(obj["details"], "generated_tokens");
      }
      return out;
    });
  }

  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest& req, std::string_view event,
                                         std::string_view data) const override {
    if (!req.raw_completion) return OpenAICompatibleProvider::ParseStreamEvent(req, event, data);
    auto parsed = ParseJsonBody("tgi", data);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("tgi", [&]() -> ApiResult<StreamStep> {
      if (j.contains("error")) return MakeError(ErrorClass::kServer, "tgi stream error: " + StringOr(j, "error"));
      StreamStep step;
      step.kind = StreamStep::kChunk;
      const Json& tok = j.at("token");
      if (!tok.value("special", false)) step.chunk.text = tok.at("text").get<std::string>();
      if (j.contains("generated_text") && j["generated_text"].is_string()) {
        step.kind = StreamStep::kDone;  // the final event repeats the whole text
        if (j.contains("details") && j["details"].is_object()) {
          step.chunk.finish_reason = StringOr(j["details"], "finish_reason");
          step.chunk.usage = Usage{0, IntOr(j["details"], "generated_tokens")};
        }
      }
      return step;
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeTgiProvider() { return std::make_unique<TgiProvider>(); }

}  // namespace accel::api
