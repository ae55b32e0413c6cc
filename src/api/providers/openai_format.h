#pragma once
// The OpenAI chat-completions / embeddings wire format, shared by every provider that speaks
// it (OpenAI, Groq, vLLM, TGI's Messages API, OVMS's /v3 route, OPEA microservices).
#include <string>
#include <string_view>

#include "api/providers/json_util.h"
#include "api/providers/provider.h"

namespace accel::api::openai_format {

std::string ChatBody(const ChatRequest& req, bool stream);
ApiResult<ChatResponse> ParseChat(std::string_view provider, const HttpResponse& r);
ApiResult<StreamStep> ParseStreamEvent(std::string_view provider, std::string_view data);
std::string EmbedBody(const EmbedRequest& req);
// Accepts {"data":[{"index","embedding"}]} and, for older OPEA services, {"embedding":[...]}.
ApiResult<EmbedResponse> ParseEmbed(std::string_view provider, const EmbedRequest& req, const HttpResponse& r);

}  // namespace accel::api::openai_format
