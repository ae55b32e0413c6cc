#pragma once
// JSON helpers for providers: parsing that never throws past the provider, with errors that
// name the provider and what was wrong (kProtocol: the peer spoke nonsense).
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/wire/error.h"

namespace accel::api {

using Json = nlohmann::json;

ApiResult<Json> ParseJsonBody(std::string_view provider, std::string_view body);

// Runs `f` (which reads a parsed Json with .at()/.get<>()) and turns any type or key error
// into a kProtocol ApiError naming `what`.
template <typename F>
auto GuardedParse(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return MakeError(ErrorClass::kProtocol, std::string(what) + ": unexpected response shape (" + e.what() + ")");
  }
}

// The string at j[key] when present and a string, else "".
std::string StringOr(const Json& j, const char* key, std::string fallback = "");
int64_t IntOr(const Json& j, const char* key, int64_t fallback = 0);

// A JSON array of numbers -> floats, checking every element.
std::vector<float> FloatVector(const Json& j);

}  // namespace accel::api
