#include "serve/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <random>

#include "placement/admission.h"

#include "serve/config_file.h"
#include "serve/routes.h"

namespace accel::serve {

using json = nlohmann::json;

// ---- shared helpers (routes.h) ----

void SendError(httplib::Response& res, Api api, const ServeError& e) {
  res.status = e.status;
  json body;
  if (api == Api::kOpenAi) {
    body = {{"error", {{"message", e.message}, {"type", e.type}, {"param", nullptr}, {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
  } else if (api == Api::kOllama) {
    body = {{"error", e.message}};
  } else {
    body = {{"error", e.message}, {"error_type", e.status == 429 ? "overloaded" : e.status >= 500 ? "backend" : "validation"}};
  }
  res.set_content(Dump(body), "application/json");
}

ServeError FromParseError(const ParseError& p) { return ServeError{p.status, "invalid_request_error", p.param.empty() ? "" : "invalid_" + p.param, p.message}; }

ServeError UnknownModel(const std::string& name) {
  return ServeError{404, "invalid_request_error", "model_not_found", "model '" + name + "' is not served here (GET /v1/models lists them)"};
}

ServeError Overloaded(const std::string& name) {
  return ServeError{429, "server_busy", "queue_full", "model '" + name + "' is busy: its queue is full, retry later"};
}

void SendOverloaded(Context& ctx, httplib::Response& res, Api api, const std::string& model) {
  ctx.metrics.Rejected(model);
  SendError(res, api, Overloaded(model));
  res.set_header("Retry-After", std::to_string(ctx.options.retry_after_s));
}

Handler Timed(Context& ctx, const std::string& route, Handler h) {
  return [&ctx, route, h](const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    h(req, res);
    if (res.is_chunked_content_provider_) return;  // counted when the stream ends
    ctx.metrics.Request(route, res.status == -1 ? 200 : res.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
}

void RecordStream(Context& ctx, const std::string& route, std::chrono::steady_clock::time_point start) {
  ctx.metrics.Request(route, 200, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void RecordGeneration(Context& ctx, const std::string& model, const GenOutcome& out) {
  ctx.metrics.Tokens(model, out.prompt_tokens, out.completion_tokens);
  if (out.completion_tokens > 0) ctx.metrics.FirstToken(model, out.queue_seconds, out.ttft_seconds);
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RequestId(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s-%012llx", prefix, static_cast<unsigned long long>((salt << 20) ^ ++counter));
  return buf;
}

// ---- the server ----

struct Server::Impl {
  Context ctx;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> exited{false};
};

namespace {

Api ApiForPath(const std::string& path) {
  if (path.rfind("/api/", 0) == 0) return Api::kOllama;
  if (path.rfind("/v1/", 0) == 0) return Api::kOpenAi;
  return Api::kTei;
}

// The index of the key `given` is, or -1.
int MatchingKey(const std::string& given, const std::vector<std::string>& keys) {
  int match = -1;
  for (size_t n = 0; n < keys.size(); ++n) {  // compare every key in full: no early exit on a match
    const std::string& k = keys[n];
    unsigned diff = given.size() != k.size();
    for (size_t i = 0; i < k.size(); ++i) diff |= static_cast<unsigned char>(k[i]) ^ static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    if (diff == 0) match = static_cast<int>(n);
  }
  return match;
}

void RegisterOpsAndTei(httplib::Server& svr, Context& ctx) {
  svr.Get("/health", Timed(ctx, "/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  }));
  svr.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx.metrics.Render(ctx.registry), "text/plain; version=0.0.4");
  });
  // TEI: one model per server there; here the request's "model", else the only embedding model.
  auto pick = [&ctx](const std::string& name) -> ServedModel* {
    return name.empty() ? ctx.registry.OnlyOfKind(ServedModel::Kind::kEmbed) : ctx.registry.Find(name);
  };
  svr.Get("/info", Timed(ctx, "/info", [&ctx, pick](const httplib::Request&, httplib::Response& res) {
    ServedModel* m = pick("");
    if (!m) m = ctx.registry.OnlyOfKind(ServedModel::Kind::kGenerate);
    json j = {{"version", "accel"}, {"max_client_batch_size", 2048}, {"max_concurrent_requests", ctx.options.max_queue + 1}};
    if (m) {
      j["max_concurrent_requests"] = m->max_running() + m->max_queue();
      j["model_id"] = m->name();
      j["model_type"] = m->kind() == ServedModel::Kind::kEmbed ? json{{"embedding", {{"pooling", m->pooling() == Pooling::kCls ? "cls" : "mean"}}}} : json("generation");
      j["max_input_length"] = m->context_length();
      // TGI's names for the same limits.
      j["max_input_tokens"] = m->context_length() - 1;
      j["max_total_tokens"] = m->context_length();
    }
    res.set_content(j.dump(), "application/json");
  }));
  svr.Post("/embed", Timed(ctx, "/embed", [&ctx, pick](const httplib::Request& req, httplib::Response& res) {
    auto p = ParseTeiEmbed(req.body);
    if (!p.ok()) return SendError(res, Api::kTei, FromParseError(*p.error));
    ServedModel* m = pick(p.value.model);
    if (!m) return SendError(res, Api::kTei, p.value.model.empty() ? ServeError{400, "", "", "several embedding models are served: name one with \"model\""} : UnknownModel(p.value.model));
    auto ticket = m->TryAdmit();
    if (!ticket) return SendOverloaded(ctx, res, Api::kTei, m->name());
    EmbedOutcome out;
    if (auto e = RunEmbeddingBatched(*m, *ticket, p.value, ctx.options.max_embed_batch, ctx.metrics, &out)) return SendError(res, Api::kTei, *e);
    ticket.reset();
    ctx.metrics.Tokens(m->name(), out.prompt_tokens, 0);
    res.set_content(json(out.vectors).dump(), "application/json");
  }));
}

}  // namespace

namespace {

// Debian's cpp-httplib is a shared library built with a listen backlog of 5: a burst of new
// connections (64 clients reconnecting at once) overflows it and clients see resets. Calling
// listen() again on a listening socket only changes its backlog (Linux), so the socket bound to
// `port` is found among this process's descriptors and given the system's maximum.
void WidenListenBacklog(int port) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    const int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                      : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                                   : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServeOptions& options) {
  auto impl = std::make_unique<Impl>();
  Context& ctx = impl->ctx;
  ctx.options = options;
  ctx.limits.max_tokens = options.max_tokens;
  if (options.models.empty() && options.routes.empty() && options.config_path.empty())
    return InvalidArgument("serve: give at least one model with -m PATH (or NAME=PATH), or routes with --route / --config");
  if (options.max_queue < 0) return InvalidArgument("serve: --max-queue must be >= 0");
  if (!(options.key_rate_per_minute >= 0)) return InvalidArgument("serve: --key-rate-limit must be >= 0");
  if (options.key_rate_per_minute > 0 && options.api_keys.empty())
    return InvalidArgument("serve: --key-rate-limit limits each --api-key: give at least one key");
  ctx.key_limits = std::make_unique<KeyRateLimiter>(options.api_keys.size(), options.key_rate_per_minute);
  if (options.http_threads < 2) return InvalidArgument("serve: --http-threads must be >= 2");
  for (const auto& arg : options.models) {
    ACCEL_ASSIGN_OR_RETURN(ModelSpec spec, ParseModelSpec(arg));
    ACCEL_RETURN_IF_ERROR(AdmitModel({spec.path, options.memory_limit}));
    ServedModelOptions mo;
    mo.device = options.device;
    mo.max_queue = options.max_queue;
    mo.parallel = options.parallel;
    mo.slot_context = options.slot_context;
    mo.kv_cache = options.kv_cache;
    ACCEL_ASSIGN_OR_RETURN(auto model, ServedModel::Load(spec, mo));
    ACCEL_RETURN_IF_ERROR(ctx.registry.Add(std::move(model)));
  }
  std::vector<RouteSpec> routes;
  if (!options.config_path.empty()) {
    ACCEL_ASSIGN_OR_RETURN(std::string text, ServeConfigAsJson(options.config_path));
    ACCEL_ASSIGN_OR_RETURN(routes, ParseRouteConfig(text, options.config_path));
  }
  for (const auto& arg : options.routes) {
    ACCEL_ASSIGN_OR_RETURN(RouteSpec r, ParseRouteFlag(arg));
    routes.push_back(std::move(r));
  }
  if (!routes.empty()) {
    ACCEL_ASSIGN_OR_RETURN(ctx.router, Router::Create(routes, ctx.registry));
  }
  httplib::Server& svr = impl->http;
  const int threads = options.http_threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // cpp-httplib writes headers and body (and each stream chunk) separately: without TCP_NODELAY
  // Nagle's algorithm holds the second write for the client's delayed ACK (~40 ms).
  svr.set_tcp_nodelay(true);
  svr.set_payload_max_length(options.max_body_bytes);
  svr.set_read_timeout(options.read_timeout_s, 0);
  svr.set_keep_alive_timeout(options.keep_alive_timeout_s);
  // cpp-httplib closes a keep-alive connection after 5 requests by default; a client (or a
  // proxy in front) would then pay a new connection every fifth request.
  svr.set_keep_alive_max_count(1000);
  Context* c = &ctx;
  svr.set_pre_routing_handler([c](const httplib::Request& req, httplib::Response& res) {
    if (!c->options.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", c->options.cors_origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      if (req.method == "OPTIONS") {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (c->options.api_keys.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const int key = auth.rfind(prefix, 0) == 0 ? MatchingKey(auth.substr(prefix.size()), c->options.api_keys) : -1;
    if (key < 0) {
      SendError(res, ApiForPath(req.path), ServeError{401, "invalid_request_error", "invalid_api_key", "missing or invalid API key (Authorization: Bearer KEY)"});
      c->metrics.Request("unauthorized", 401, 0);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (int wait_s = c->key_limits->TryTake(static_cast<size_t>(key)); wait_s > 0) {
      // The message names no key: keys are never logged or echoed.
      res.set_header("Retry-After", std::to_string(wait_s));
      SendError(res, ApiForPath(req.path), ServeError{429, "rate_limit_error", "rate_limit_exceeded",
                                                      "this API key's rate limit is reached; retry in " + std::to_string(wait_s) + " s"});
      c->metrics.Request("rate_limited", 429, 0);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's own errors (404 no route, 413 body too large, 400 bad request line) get a body in
  // the format of the API the path belongs to.
  svr.set_error_handler([c](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 413 ? "request body is larger than the limit of " + std::to_string(c->options.max_body_bytes) + " bytes"
                      : res.status == 404 ? "no route " + req.method + " " + req.path
                                          : "HTTP error " + std::to_string(res.status);
    ServeError e{res.status, res.status == 404 ? "not_found_error" : "invalid_request_error", "", msg};
    SendError(res, ApiForPath(req.path), e);
    if (res.status == 413 || res.status == 404) c->metrics.Request(res.status == 413 ? "too_large" : "no_route", res.status, 0);
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    SendError(res, ApiForPath(req.path), ServeError{500, "server_error", "", what});
  });
  RegisterOpsAndTei(svr, ctx);
  RegisterOpenAiRoutes(svr, ctx);
  RegisterOllamaRoutes(svr, ctx);
  RegisterTgiRoutes(svr, ctx);
  impl->port = options.port == 0 ? svr.bind_to_any_port(options.host) : (svr.bind_to_port(options.host, options.port) ? options.port : -1);
  if (impl->port <= 0) return IoError("serve: cannot bind " + options.host + ":" + std::to_string(options.port));
  WidenListenBacklog(impl->port);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

int Server::port() const { return impl_->port; }

ModelRegistry& Server::registry() { return impl_->ctx.registry; }

void Server::Start() {
  thread_ = std::thread([this] {
    impl_->http.listen_after_bind();
    impl_->exited = true;
  });
  // Stop() only reaches a server that is running: wait until it is (or failed to).
  while (!impl_->http.is_running() && !impl_->exited) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Server::Run() { impl_->http.listen_after_bind(); }

void Server::Stop() { impl_->http.stop(); }

}  // namespace accel::serve
