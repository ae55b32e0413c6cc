#include "api/wire/http_error.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

namespace accel::api {
namespace {

constexpr double kMaxHonouredWaitS = 3600;  // a server asking for more is treated as an hour

double ParseHttpDateDelta(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return -1;
  time_t when = timegm(&tm);
  double delta = std::difftime(when, std::time(nullptr));
  return std::max(0.0, delta);
}

double ParseRfc3339Delta(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return -1;
  time_t when = timegm(&tm);
  return std::max(0.0, std::difftime(when, std::time(nullptr)));
}

bool ParseNonNegative(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  while (end && *end == ' ') ++end;
  if (!end || *end != '\0' || !(v >= 0)) return false;
  *out = v;
  return true;
}

std::string Truncate(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n) + "...";
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

}  // namespace

double ParseGoDuration(const std::string& text) {
  if (text.empty()) return -1;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return -1;
    double v = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    if (unit == "h") v *= 3600;
    else if (unit == "m") v *= 60;
    else if (unit == "s" || unit.empty()) {}
    else if (unit == "ms") v /= 1000;
    else if (unit == "us") v /= 1e6;
    else return -1;
    total += v;
    any = true;
  }
  return any ? total : -1;
}

double RetryAfterSeconds(const HttpResponse& r) {
  double v = -1;
  if (ParseNonNegative(r.Header("retry-after-ms"), &v)) return std::min(v / 1000, kMaxHonouredWaitS);
  const std::string& ra = r.Header("retry-after");
  if (!ra.empty()) {
    if (ParseNonNegative(ra, &v)) return std::min(v, kMaxHonouredWaitS);
    v = ParseHttpDateDelta(ra);
    if (v >= 0) return std::min(v, kMaxHonouredWaitS);
  }
  // OpenAI/Groq: reset durations; only meaningful for the bucket that ran out.
  double best = -1;
  for (const char* kind : {"requests", "tokens"}) {
    std::string remaining = r.Header(std::string("x-ratelimit-remaining-") + kind);
    std::string reset = r.Header(std::string("x-ratelimit-reset-") + kind);
    if (reset.empty()) continue;
    if (!remaining.empty() && remaining != "0" && r.status != 429) continue;
    double d = ParseGoDuration(reset);
    if (d >= 0) best = std::max(best, d);
  }
  for (const char* kind : {"requests", "tokens", "input-tokens", "output-tokens"}) {
    std::string remaining = r.Header(std::string("anthropic-ratelimit-") + kind + "-remaining");
    std::string reset = r.Header(std::string("anthropic-ratelimit-") + kind + "-reset");
    if (reset.empty() || (remaining != "0" && r.status != 429)) continue;
    double d = ParseRfc3339Delta(reset);
    if (d >= 0) best = std::max(best, d);
  }
  return best < 0 ? -1 : std::min(best, kMaxHonouredWaitS);
}

std::string ErrorMessageFromBody(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    auto pick = [](const nlohmann::json& o, const char* key) -> std::string {
      auto it = o.find(key);
      return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto err = j.find("error");
    if (err != j.end()) {
      if (err->is_string()) return Truncate(err->get<std::string>(), 300);
      if (err->is_object()) {
        std::string m = pick(*err, "message");
        std::string t = pick(*err, "type");
        if (t.empty()) t = pick(*err, "status");
        if (!m.empty()) return Truncate(t.empty() ? m : t + ": " + m, 300);
      }
    }
    for (const char* k : {"message", "detail"}) {
      std::string m = pick(j, k);
      if (!m.empty()) return Truncate(m, 300);
    }
  }
  return Truncate(body, 200);
}

ApiError ClassifyHttpError(const HttpResponse& r) {
  ApiError e;
  e.http_status = r.status;
  e.message = ErrorMessageFromBody(r.body);
  int s = r.status;
  if (s == 429) e.cls = ErrorClass::kRateLimited;
  else if (s == 401 || s == 403) e.cls = ErrorClass::kAuth;
  else if (s == 404) e.cls = ErrorClass::kNotFound;
  else if (s == 408 || s == 504) e.cls = ErrorClass::kTimeout;
  else if (s == 529) e.cls = ErrorClass::kRateLimited;  // Anthropic "overloaded"
  else if (s >= 500) e.cls = ErrorClass::kServer;
  else if (s >= 300 && s < 400) {
    // Redirects are never followed: a key must not travel to a host the user did not name.
    e.cls = ErrorClass::kBadRequest;
    e.message = "redirect refused (to '" + Truncate(r.Header("location"), 120) + "')";
  } else e.cls = ErrorClass::kBadRequest;
  // Gemini signals quota with 429 RESOURCE_EXHAUSTED, which the status already covers.
  e.retry_after_s = RetryAfterSeconds(r);
  return e;
}

}  // namespace accel::api
