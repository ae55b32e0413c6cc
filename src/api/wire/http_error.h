#pragma once
// Maps a non-2xx HTTP answer (status, headers, body) to an ApiError. Every provider's error
// body shape is recognised here (OpenAI/Groq/vLLM {"error":{"message"}}, Anthropic
// {"type":"error","error":{...}}, Gemini {"error":{"status"}}, Ollama/TGI/TEI {"error":"..."}).
#include <string>

#include "api/wire/error.h"
#include "api/wire/http_types.h"

namespace accel::api {

ApiError ClassifyHttpError(const HttpResponse& response);

// Seconds to wait as the server asked: Retry-After (seconds or HTTP date), retry-after-ms,
// x-ratelimit-reset-requests/-tokens ("1m30s", "250ms") when the matching remaining is 0, and
// anthropic-ratelimit-*-reset (RFC 3339). Negative when the headers say nothing.
double RetryAfterSeconds(const HttpResponse& response);

// "6m0s", "1.5s", "250ms", "2h" -> seconds; negative when unparsable.
double ParseGoDuration(const std::string& text);

// The human message inside a JSON error body, or a cut-down raw body.
std::string ErrorMessageFromBody(const std::string& body);

}  // namespace accel::api
