#pragma once
#include "api/providers/provider.h"

namespace accel::api {

class OpenAICompatibleProvider : public Provider {
 public:
  // `prefix` goes between the base URL and "/chat/completions" ("" when the base already
  // ends in /v1, "/v3" for OVMS).
  explicit OpenAICompatibleProvider(ProviderInfo info, std::string prefix = "")
      : info_(std::move(info)), prefix_(std::move(prefix)) {}
  const ProviderInfo& info() const override { return info_; }
  ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const override;
  ApiResult<ChatResponse> ParseChat(const ChatRequest& req, const HttpResponse& r) const override;
  ApiResult<StreamStep> ParseStreamEvent(const ChatRequest& req, std::string_view event,
                                         std::string_view data) const override;
  ApiResult<HttpRequest> BuildEmbed(const EmbedRequest& req, const Target& t) const override;
  ApiResult<EmbedResponse> ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const override;

 protected:
  ProviderInfo info_;
  std::string prefix_;
};

}  // namespace accel::api
