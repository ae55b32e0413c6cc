// Google Gemini (Generative Language API): models/{m}:generateContent, :streamGenerateContent
// with ?alt=sse (each event a whole GenerateContentResponse), :embedContent and
// :batchEmbedContents. Roles are "user" and "model"; system text goes to systemInstruction.
#include "api/providers/json_util.h"
#include "api/providers/provider.h"

namespace accel::api {
namespace {

std::string ModelPath(const std::string& model) {
  return model.rfind("models/", 0) == 0 ? model : "models/" + model;
}

ApiResult<ChatChunk> ReadCandidate(const Json& j) {
  return GuardedParse("gemini", [&]() -> ApiResult<ChatChunk> {
    ChatChunk c;
    if (j.contains("promptFeedback") && !j.contains("candidates")) {
      return MakeError(ErrorClass::kBadRequest,
                       "gemini: prompt blocked: " + StringOr(j["promptFeedback"], "blockReason", "unknown"));
    }
    auto cands = j.find("candidates");
    if (cands != j.end() && !cands->empty()) {
      const Json& cand = cands->at(0);
      auto content = cand.find("content");
      if (content != cand.end() && content->contains("parts"))
        for (const Json& part : content->at("parts")) c.text += StringOr(part, "text");
      c.finish_reason = StringOr(cand, "finishReason");
    }
    auto u = j.find("usageMetadata");
    if (u != j.end() && u->is_object())
      c.usage = Usage{IntOr(*u, "promptTokenCount"), IntOr(*u, "candidatesTokenCount")};
    return c;
  });
}

class GeminiProvider : public Provider {
 public:
  const ProviderInfo& info() const override {
    static const ProviderInfo kInfo{"gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY",
                                    AuthStyle::kGoogApiKey};
    return kInfo;
  }

  ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const override {
    if (req.model.empty()) return MakeError(ErrorClass::kBadRequest, "gemini: a model is required");
    Json body;
    Json contents = Json::array();
    std::string system;
    for (const Message& m : req.messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n") + m.content;
        continue;
      }
      contents.push_back({{"role", m.role == "assistant" ? "model" : "user"}, {"parts", {{{"text", m.content}}}}});
    }
    body["contents"] = std::move(contents);
    if (!system.empty()) body["systemInstruction"] = {{"parts", {{{"text", system}}}}};
    Json gen = Json::object();
    if (req.max_tokens) gen["maxOutputTokens"] = *req.max_tokens;
    if (req.temperature) gen["temperature"] = *req.temperature;
    if (req.top_p) gen["topP"] = *req.top_p;
    if (!req.stop.empty()) gen["stopSequences"] = req.stop;
    if (!gen.empty()) body["generationConfig"] = gen;
    std::string path = "/" + ModelPath(req.model) + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    return JsonPost(t, path, body.dump());
  }

  ApiResult<ChatResponse> ParseChat(const ChatRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("gemini", r.body);
    if (!parsed.ok()) return parsed.error();
    auto c = ReadCandidate(parsed.value());
    if (!c.ok()) return c.error();
    ChatResponse out;
    out.model = StringOr(parsed.value(), "modelVersion", req.model);
    out.text = c->text;
    out.finish_reason = c->finish_reason;
    if (c->usage) out.usage = *c->usage;
    return out;
  }

  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest&, std::string_view, std::string_view data) const override {
    auto parsed = ParseJsonBody("gemini", data);
    if (!parsed.ok()) return parsed.error();
    if (parsed->contains("error"))
      return MakeError(ErrorClass::kServer, "gemini stream error: " + parsed.value()["error"].dump());
    auto c = ReadCandidate(parsed.value());
    if (!c.ok()) return c.error();
    StreamStep step;
    step.kind = StreamStep::kChunk;  // the stream simply ends after the last candidate
    step.chunk = std::move(c.value());
    return step;
  }

  ApiResult<HttpRequest> BuildEmbed(const EmbedRequest& req, const Target& t) const override {
    if (req.inputs.empty() || req.model.empty())
      return MakeError(ErrorClass::kBadRequest, "gemini: embeddings need a model and at least one input");
    std::string model = ModelPath(req.model);
    if (req.inputs.size() == 1) {
      Json body = {{"content", {{"parts", {{{"text", req.inputs[0]}}}}}}};
      return JsonPost(t, "/" + model + ":embedContent", body.dump());
    }
    Json reqs = Json::array();
    for (const std::string& in : req.inputs)
      reqs.push_back({{"model", model}, {"content", {{"parts", {{{"text", in}}}}}}});
    return JsonPost(t, "/" + model + ":batchEmbedContents", Json{{"requests", reqs}}.dump());
  }

  ApiResult<EmbedResponse> ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("gemini", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("gemini", [&]() -> ApiResult<EmbedResponse> {
      EmbedResponse out;
      out.model = req.model;
      if (j.contains("embedding")) {
        out.embeddings.push_back(FloatVector(j.at("embedding").at("values")));
      } else {
        for (const Json& e : j.at("embeddings")) out.embeddings.push_back(FloatVector(e.at("values")));
      }
      if (out.embeddings.size() != req.inputs.size())
        throw std::runtime_error("embedding count differs from input count");
      return out;
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeGeminiProvider() { return std::make_unique<GeminiProvider>(); }

}  // namespace accel::api
