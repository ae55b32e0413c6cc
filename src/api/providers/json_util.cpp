#include "api/providers/json_util.h"

namespace accel::api {

ApiResult<Json> ParseJsonBody(std::string_view provider, std::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    std::string head(body.substr(0, 60));
    for (char& c : head)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return MakeError(ErrorClass::kProtocol, std::string(provider) + ": malformed JSON in response (" +
                                                std::to_string(body.size()) + " bytes, starts '" + head + "')");
  }
  return j;
}

std::string StringOr(const Json& j, const char* key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int64_t IntOr(const Json& j, const char* key, int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

std::vector<float> FloatVector(const Json& j) {
  if (!j.is_array()) throw std::runtime_error("embedding is not an array");
  std::vector<float> out;
  out.reserve(j.size());
  for (const Json& v : j) {
    if (!v.is_number()) throw std::runtime_error("embedding element is not a number");
    out.push_back(v.get<float>());
  }
  return out;
}

}  // namespace accel::api
