// OpenAI and the servers that speak its API unchanged: Groq, vLLM, OVMS's /v3 route and OPEA's
// LLM/embedding microservices. They differ only in base URL, key variable and auth header;
// OVMS additionally serves KServe v2 tensors (see kserve.cpp).
#include "api/providers/openai_compatible.h"

#include "api/providers/openai_format.h"

namespace accel::api {

ApiResult<HttpRequest> OpenAICompatibleProvider::BuildChat(const ChatRequest& req, bool stream, const Target& t) const {
  if (req.model.empty()) return MakeError(ErrorClass::kBadRequest, info_.name + ": a model is required");
  return JsonPost(t, prefix_ + "/chat/completions", openai_format::ChatBody(req, stream));
}

ApiResult<ChatResponse> OpenAICompatibleProvider::ParseChat(const ChatRequest&, const HttpResponse& r) const {
  return openai_format::ParseChat(info_.name, r);
}

ApiResult<StreamStep> OpenAICompatibleProvider::ParseStreamEvent(const ChatRequest&, std::string_view,
                                                                 std::string_view data) const {
  return openai_format::ParseStreamEvent(info_.name, data);
}

ApiResult<HttpRequest> OpenAICompatibleProvider::BuildEmbed(const EmbedRequest& req, const Target& t) const {
  if (req.inputs.empty()) return MakeError(ErrorClass::kBadRequest, info_.name + ": nothing to embed");
  return JsonPost(t, prefix_ + "/embeddings", openai_format::EmbedBody(req));
}

ApiResult<EmbedResponse> OpenAICompatibleProvider::ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const {
  return openai_format::ParseEmbed(info_.name, req, r);
}

}  // namespace accel::api
