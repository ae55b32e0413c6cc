// Hugging Face text-embeddings-inference: /embed ({"inputs":[...]} -> [[...],...]), /rerank
// ({"query","texts"} -> [{"index","score"}]) and the OpenAI route /v1/embeddings. No chat.
#include "api/providers/json_util.h"
#include "api/providers/openai_format.h"
#include "api/providers/provider.h"

namespace accel::api {
namespace {

class TeiProvider : public Provider {
 public:
  const ProviderInfo& info() const override {
    static const ProviderInfo kInfo{"tei", "http://localhost:8080", "HF_TOKEN", AuthStyle::kBearer};
    return kInfo;
  }
  ApiResult<HttpRequest> BuildChat(const ChatRequest&, bool, const Target&) const override { return Unsupported("chat"); }
  ApiResult<ChatResponse> ParseChat(const ChatRequest&, const HttpResponse&) const override { return Unsupported("chat"); }
  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest&, std::string_view, std::string_view) const override {
    return Unsupported("chat");
  }

  ApiResult<HttpRequest> BuildEmbed(const EmbedRequest& req, const Target& t) const override {
    if (req.inputs.empty()) return MakeError(ErrorClass::kBadRequest, "tei: nothing to embed");
    Json body = {{"inputs", req.inputs}, {"normalize", req.normalize}, {"truncate", true}};
    return JsonPost(t, "/embed", body.dump());
  }

  ApiResult<EmbedResponse> ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("tei", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("tei", [&]() -> ApiResult<EmbedResponse> {
      if (!j.is_array()) throw std::runtime_error("/embed answer is not an array");
      EmbedResponse out;
      out.model = req.model;
      for (const Json& e : j) out.embeddings.push_back(FloatVector(e));
      if (out.embeddings.size() != req.inputs.size()) throw std::runtime_error("embedding count differs from input count");
      return out;
    });
  }

  ApiResult<HttpRequest> BuildRerank(const RerankRequest& req, const Target& t) const override {
    if (req.texts.empty()) return MakeError(ErrorClass::kBadRequest, "tei: nothing to rerank");
    return JsonPost(t, "/rerank", Json{{"query", req.query}, {"texts", req.texts}}.dump());
  }

  ApiResult<RerankResponse> ParseRerank(const RerankRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("tei", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("tei", [&]() -> ApiResult<RerankResponse> {
      RerankResponse out;
      for (const Json& item : j) {
        RerankResult res{item.at("index").get<size_t>(), item.at("score").get<double>()};
        if (res.index >= req.texts.size()) throw std::runtime_error("rerank index out of range");
        out.results.push_back(res);
      }
      return out;
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeTeiProvider() { return std::make_unique<TeiProvider>(); }

}  // namespace accel::api
