#pragma once
// A provider translates the shared request model to one API's wire format and back. It is
// pure (no I/O, no state across calls): the client core does transport, retries and stats,
// so each provider file is only "build this JSON, read that JSON".
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/wire/error.h"
#include "api/wire/http_types.h"
#include "api/wire/types.h"

namespace accel::api {

// Where one attempt goes: chosen per attempt by the client (endpoint routing + key pool).
struct Target {
  std::string base_url;  // no trailing slash
  std::string api_key;   // "" for servers without auth
};

enum class AuthStyle { kNone, kBearer, kXApiKey, kGoogApiKey };

struct ProviderInfo {
  std::string name;              // "openai"
  std::string default_base_url;  // "https://api.openai.com/v1"
  std::string key_env;           // "OPENAI_API_KEY"; "" when none is needed
  AuthStyle auth = AuthStyle::kBearer;
};

enum class StreamFormat { kSse, kNdjson };

// What one streamed event meant.
struct StreamStep {
  enum Kind { kChunk, kSkip, kDone } kind = kSkip;
  ChatChunk chunk;  // for kChunk (and kDone when the last event also carries data)
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const ProviderInfo& info() const = 0;

  virtual ApiResult<HttpRequest> BuildChat(const ChatRequest& req, bool stream, const Target& t) const = 0;
  virtual ApiResult<ChatResponse> ParseChat(const ChatRequest& req, const HttpResponse& r) const = 0;
  virtual StreamFormat ChatStreamFormat(const ChatRequest& req) const { return StreamFormat::kSse; }
  // `event` is the SSE event name ("" for NDJSON); `data` the event data or NDJSON line.
  virtual ApiResult<StreamStep> ParseStreamEvent(const ChatRequest& req, std::string_view event,
                                                 std::string_view data) const = 0;

  virtual ApiResult<HttpRequest> BuildEmbed(const EmbedRequest& req, const Target& t) const;
  virtual ApiResult<EmbedResponse> ParseEmbed(const EmbedRequest& req, const HttpResponse& r) const;
  virtual ApiResult<HttpRequest> BuildRerank(const RerankRequest& req, const Target& t) const;
  virtual ApiResult<RerankResponse> ParseRerank(const RerankRequest& req, const HttpResponse& r) const;
  virtual ApiResult<HttpRequest> BuildInfer(const KServeInferRequest& req, const Target& t) const;
  virtual ApiResult<KServeInferResponse> ParseInfer(const KServeInferRequest& req, const HttpResponse& r) const;

  // Non-2xx answers; providers with odd error conventions override.
  virtual ApiError ClassifyError(const HttpResponse& r) const;

 protected:
  // A JSON POST with this provider's auth header.
  HttpRequest JsonPost(const Target& t, const std::string& path, const std::string& body) const;
  ApiError Unsupported(const char* what) const;
};

// Provider names: openai claude groq ollama tgi tei gemini vllm ovms opea (s3 is separate).
std::unique_ptr<Provider> MakeProvider(std::string_view name);
std::vector<std::string> ProviderNames();

// One line naming the first of `text` that is not valid UTF-8 is not needed: JSON parsing
// already rejects it. This wraps nlohmann parsing so malformed bodies become kProtocol errors.
}  // namespace accel::api
