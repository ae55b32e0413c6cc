#pragma once
// Shared by the route files of src/serve: the server's state and how each API writes errors.
#include <chrono>
#include <functional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "serve/engine.h"
#include "serve/key_rate_limiter.h"
#include "serve/metrics.h"
#include "serve/model_registry.h"
#include "serve/router.h"
#include "serve/server.h"

namespace accel::serve {

struct Context {
  ServeOptions options;
  ModelRegistry registry;
  Metrics metrics;
  GenerationLimits limits;
  std::unique_ptr<Router> router;  // null without routes
  std::unique_ptr<KeyRateLimiter> key_limits;  // per --api-key, in the order given
};

enum class Api { kOpenAi, kOllama, kTei };

// The error body of each API: OpenAI {"error":{"message","type","param","code"}},
// Ollama {"error":"..."}, TEI and TGI {"error":"...","error_type":"..."}.
void SendError(httplib::Response& res, Api api, const ServeError& e);
ServeError FromParseError(const ParseError& p);
ServeError UnknownModel(const std::string& name);
ServeError Overloaded(const std::string& name);
// Sets 429 + Retry-After and counts the rejection.
void SendOverloaded(Context& ctx, httplib::Response& res, Api api, const std::string& model);

// A handler timed and counted under `route` (streams are counted when they end).
using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
Handler Timed(Context& ctx, const std::string& route, Handler h);
// Called by streaming handlers when their stream ends.
void RecordStream(Context& ctx, const std::string& route, std::chrono::steady_clock::time_point start);
// Counts a local generation's tokens and its queue wait / time to first token.
void RecordGeneration(Context& ctx, const std::string& model, const GenOutcome& out);

// A response body; invalid UTF-8 from a model's text is replaced rather than thrown on.
inline std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

int64_t NowSeconds();
std::string RequestId(const char* prefix);

void RegisterOpenAiRoutes(httplib::Server& svr, Context& ctx);
void RegisterOllamaRoutes(httplib::Server& svr, Context& ctx);
void RegisterTgiRoutes(httplib::Server& svr, Context& ctx);

}  // namespace accel::serve
