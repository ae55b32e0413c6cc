#include "serve/router.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "serve/model_registry.h"

namespace accel::serve {

const char* FailoverReasonName(FailoverReason r) {
  switch (r) {
    case FailoverReason::kOverload: return "overload";
    case FailoverReason::kRateLimit: return "rate_limit";
    case FailoverReason::kTimeout: return "timeout";
    case FailoverReason::kConnection: return "connection";
    case FailoverReason::kCircuitOpen: return "circuit_open";
    case FailoverReason::kServerError: return "server_error";
  }
  return "unknown";
}

std::optional<FailoverReason> FailoverFor(const api::ApiError& e) {
  switch (e.cls) {
    case api::ErrorClass::kRateLimited: return FailoverReason::kRateLimit;
    case api::ErrorClass::kOverloaded: return FailoverReason::kOverload;
    case api::ErrorClass::kTimeout: return FailoverReason::kTimeout;
    case api::ErrorClass::kNetwork: return FailoverReason::kConnection;
    case api::ErrorClass::kCircuitOpen: return FailoverReason::kCircuitOpen;
    case api::ErrorClass::kServer: return FailoverReason::kServerError;
    default: return std::nullopt;
  }
}

Result<RouteSpec> ParseRouteFlag(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    return InvalidArgument("--route '" + arg + "': expected NAME=PROVIDER:TARGET[,PROVIDER:TARGET...]");
  RouteSpec route;
  route.name = arg.substr(0, eq);
  std::string rest = arg.substr(eq + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string::npos) comma = rest.size();
    const std::string item = rest.substr(pos, comma - pos);
    const size_t colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return InvalidArgument("--route " + route.name + ": endpoint '" + item + "' is not PROVIDER:TARGET (local:MODEL or openai:http://host:port/v1)");
    EndpointSpec e;
    e.provider = item.substr(0, colon);
    e.target = item.substr(colon + 1);
    e.priority = static_cast<int>(route.endpoints.size());
    route.endpoints.push_back(std::move(e));
    pos = comma + 1;
  }
  return route;
}

Result<std::vector<RouteSpec>> ParseRouteConfig(const std::string& json_text, const std::string& file_name) {
  using json = nlohmann::json;
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(file_name + ": not a JSON object");
  if (!j.contains("routes")) return std::vector<RouteSpec>{};
  if (!j["routes"].is_object()) return InvalidArgument(file_name + ": \"routes\" must be an object of NAME: [endpoints]");
  std::vector<RouteSpec> routes;
  for (const auto& [name, list] : j["routes"].items()) {
    if (!list.is_array() || list.empty()) return InvalidArgument(file_name + ": routes." + name + " must be a non-empty array");
    RouteSpec r;
    r.name = name;
    for (size_t i = 0; i < list.size(); ++i) {
      const json& e = list[i];
      const std::string where = file_name + ": routes." + name + "[" + std::to_string(i) + "]";
      if (!e.is_object()) return InvalidArgument(where + " must be an object");
      auto str = [&](const char* key, std::string* out) -> Status {
        if (!e.contains(key)) return Status();
        if (!e[key].is_string()) return InvalidArgument(where + "." + key + " must be a string");
        *out = e[key].get<std::string>();
        return Status();
      };
      EndpointSpec s;
      s.priority = static_cast<int>(i);
      ACCEL_RETURN_IF_ERROR(str("provider", &s.provider));
      ACCEL_RETURN_IF_ERROR(str("target", &s.target));
      ACCEL_RETURN_IF_ERROR(str("model", &s.model));
      ACCEL_RETURN_IF_ERROR(str("key_env", &s.key_env));
      if (e.contains("priority")) {
        if (!e["priority"].is_number_integer()) return InvalidArgument(where + ".priority must be an integer");
        s.priority = e["priority"].get<int>();
      }
      if (e.contains("timeout_s")) {
        if (!e["timeout_s"].is_number() || e["timeout_s"].get<double>() <= 0) return InvalidArgument(where + ".timeout_s must be a positive number");
        s.timeout_s = e["timeout_s"].get<double>();
      }
      if (s.provider.empty() || s.target.empty()) return InvalidArgument(where + " needs \"provider\" and \"target\"");
      r.endpoints.push_back(std::move(s));
    }
    routes.push_back(std::move(r));
  }
  return routes;
}

int Endpoint::load() const { return local_ ? local_->in_flight() : in_flight_.load(); }

bool RemoteStream::WaitStarted() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !chunks_.empty() || result_.has_value(); });
  return !chunks_.empty();
}

bool RemoteStream::Next(api::ChatChunk* chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !chunks_.empty() || result_.has_value(); });
  if (chunks_.empty()) return false;
  *chunk = std::move(chunks_.front());
  chunks_.pop_front();
  return true;
}

void RemoteStream::Push(const api::ChatChunk& c) {
  std::lock_guard<std::mutex> lock(mu_);
  chunks_.push_back(c);
  cv_.notify_all();
}

void RemoteStream::Finish(api::ApiResult<api::ChatResponse> r) {
  std::lock_guard<std::mutex> lock(mu_);
  result_.emplace(std::move(r));
  cv_.notify_all();
}

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
api::ApiError CoolingError(const std::string& target) {
  return api::MakeError(api::ErrorClass::kRateLimited, target + " is cooling down after a rate limit", 429);
}
}  // namespace

bool Endpoint::CoolingDown(int64_t* now_ns) const {
  *now_ns = NowNs();
  return *now_ns < cooldown_until_ns_.load();
}

void Endpoint::NoteError(const api::ApiError& e, int64_t started_ns) {
  if (e.cls != api::ErrorClass::kRateLimited) return;
  const double wait_s = e.retry_after_s > 0 ? e.retry_after_s : 1.0;
  cooldown_until_ns_ = started_ns + static_cast<int64_t>(wait_s * 1e9);
}

api::ApiResult<api::ChatResponse> Endpoint::Chat(api::ChatRequest req) {
  int64_t now = 0;
  if (CoolingDown(&now)) return CoolingError(spec_.target);
  ++in_flight_;
  auto res = client_->Chat(std::move(req));
  --in_flight_;
  if (!res.ok()) NoteError(res.error(), now);
  return res;
}

api::ApiResult<api::EmbedResponse> Endpoint::Embed(api::EmbedRequest req) {
  int64_t now = 0;
  if (CoolingDown(&now)) return CoolingError(spec_.target);
  ++in_flight_;
  auto res = client_->Embed(std::move(req));
  --in_flight_;
  if (!res.ok()) NoteError(res.error(), now);
  return res;
}

std::shared_ptr<RemoteStream> Endpoint::ChatStream(api::ChatRequest req) {
  auto stream = std::make_shared<RemoteStream>();
  int64_t now = 0;
  if (CoolingDown(&now)) {
    stream->Finish(CoolingError(spec_.target));
    return stream;
  }
  ++in_flight_;
  client_->SubmitChatStream(
      std::move(req), api::Priority::kNormal, [stream](const api::ChatChunk& c) { stream->Push(c); },
      [this, stream, now](uint64_t, api::ApiResult<api::ChatResponse> r) {
        --in_flight_;
        if (!r.ok()) NoteError(r.error(), now);
        stream->Finish(std::move(r));
      });
  return stream;
}

Result<std::unique_ptr<Router>> Router::Create(const std::vector<RouteSpec>& routes, const ModelRegistry& registry) {
  auto router = std::make_unique<Router>();
  for (const auto& r : routes) {
    if (router->routes_.count(r.name)) return InvalidArgument("route '" + r.name + "' is given twice");
    if (registry.Find(r.name)) return InvalidArgument("route '" + r.name + "' has the name of a model served with -m: name the route differently");
    auto& list = router->routes_[r.name];
    for (const auto& s : r.endpoints) {
      auto e = std::make_unique<Endpoint>();
      e->spec_ = s;
      if (s.provider == "local") {
        e->local_ = registry.Find(s.target);
        if (!e->local_) return InvalidArgument("route '" + r.name + "': local model '" + s.target + "' is not served (give it with -m)");
      } else {
        auto provider = api::MakeProvider(s.provider);
        if (!provider) return InvalidArgument("route '" + r.name + "': unknown provider '" + s.provider + "'");
        api::ClientConfig c;
        c.provider = s.provider;
        c.base_urls = {s.target};
        c.keys = api::KeysFromEnv(s.key_env.empty() ? provider->info().key_env : s.key_env);
        // Failover replaces retries: one attempt, then the next endpoint.
        c.backoff.max_retries = 0;
        c.request_deadline_s = s.timeout_s;
        c.http.timeout_ms = static_cast<int>(s.timeout_s * 1000);
        c.http.connect_timeout_ms = std::min(c.http.timeout_ms, 5000);
        if (e->spec_.model.empty()) e->spec_.model = r.name;
        ACCEL_ASSIGN_OR_RETURN(e->client_, api::ApiClient::Create(c, std::move(provider)));
      }
      list.push_back(std::move(e));
    }
  }
  return router;
}

std::vector<std::string> Router::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, _] : routes_) names.push_back(n);
  return names;
}

std::vector<Endpoint*> Router::Plan(const std::string& name) const {
  std::vector<Endpoint*> out;
  auto it = routes_.find(name);
  if (it == routes_.end()) return out;
  // Loads change while we sort: take one snapshot so the order is consistent.
  std::vector<std::pair<int, Endpoint*>> loaded;
  for (const auto& e : it->second) loaded.emplace_back(e->load(), e.get());
  std::stable_sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    if (a.second->spec().priority != b.second->spec().priority) return a.second->spec().priority < b.second->spec().priority;
    return a.first < b.first;
  });
  for (const auto& [_, e] : loaded) out.push_back(e);
  return out;
}

}  // namespace accel::serve
