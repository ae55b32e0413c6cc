#include "api/client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "api/client_call.h"
#include "api/embed_batcher.h"
#include "api/wire/stream_parsers.h"

namespace accel::api {
namespace {

using Clock = std::chrono::steady_clock;

Usage UsageOf(const ChatResponse& r) { return r.usage; }
Usage UsageOf(const EmbedResponse& r) { return r.usage; }
Usage UsageOf(const RerankResponse&) { return {}; }
Usage UsageOf(const KServeInferResponse&) { return {}; }

template <typename T>
ApiResult<T> Wait(std::future<ApiResult<T>> f) { return f.get(); }

}  // namespace

std::vector<ApiKeySpec> KeysFromEnv(const std::string& env_var) {
  std::vector<ApiKeySpec> keys;
  if (env_var.empty()) return keys;
  const char* v = std::getenv(env_var.c_str());
  if (!v) return keys;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    if (!item.empty()) keys.push_back(ApiKeySpec{"key" + std::to_string(keys.size()), item, 0});
  }
  return keys;
}

Result<std::unique_ptr<ApiClient>> ApiClient::Create(ClientConfig config, std::unique_ptr<Provider> provider) {
  if (!provider) provider = MakeProvider(config.provider);
  if (!provider) return InvalidArgument("unknown API provider '" + config.provider + "'");
  if (config.base_urls.empty()) config.base_urls.push_back(provider->info().default_base_url);
  for (const auto& u : config.base_urls)
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      return InvalidArgument("base URL '" + u + "' must start with http:// or https://");
  if (config.concurrency < 1 || config.concurrency > 1024) return InvalidArgument("concurrency must be 1..1024");
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(config), std::move(provider)));
}

ApiClient::ApiClient(ClientConfig config, std::unique_ptr<Provider> provider)
    : config_(std::move(config)),
      provider_(std::move(provider)),
      endpoints_(config_.base_urls, config_.endpoint_strategy, config_.breaker),
      keys_(config_.keys, config_.key_strategy),
      rng_(std::random_device{}()) {
  if (config_.batch.enabled) batcher_ = std::make_unique<Batcher>(this, config_.batch);
  scheduler_ = std::make_unique<Scheduler>(config_.concurrency, config_.queue_capacity);
}

ApiClient::~ApiClient() {
  batcher_.reset();    // flushes pending batches into the scheduler
  scheduler_.reset();  // runs nothing more; cancels what waits
}

void ApiClient::Enqueue(const std::shared_ptr<Call>& call) {
  if (!scheduler_->Submit(call))
    call->Finish(MakeError(ErrorClass::kOverloaded, "request queue full (" + std::to_string(config_.queue_capacity) + " waiting)"));
}

void ApiClient::RunAttempt(const std::shared_ptr<Call>& call) {
  Pick key = keys_.Acquire();
  if (key.index < 0) {  // every key is cooling down or out of rate budget: wait, no attempt spent
    scheduler_->Resubmit(call, Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(key.wait_s)));
    return;
  }
  if (!call->deadline && config_.request_deadline_s > 0) {
    call->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.request_deadline_s));
  }
  const ApiKeySpec& spec = keys_.key(key.index);
  Pick ep = endpoints_.Acquire();
  std::optional<ApiError> error;
  Usage usage;
  auto t0 = Clock::now();
  std::string endpoint_name = "-";
  if (ep.index < 0) {
    error = MakeError(ErrorClass::kCircuitOpen, "every endpoint's circuit is open");
    error->retry_after_s = ep.wait_s;
  } else {
    endpoint_name = endpoints_.url(ep.index);
    auto request = call->build(Target{endpoint_name, spec.secret});
    if (!request.ok()) {
      error = request.error();
    } else {
      if (call->deadline) {
        auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*call->deadline - Clock::now()).count();
        request.value().timeout_ms = static_cast<int>(std::clamp<int64_t>(left_ms, 1, INT32_MAX));
      }
      error = call->perform(request.value(), &usage);
    }
  }
  double latency_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  if (ep.index >= 0) endpoints_.Release(ep.index, error && CountsAsEndpointFailure(error->cls));
  double cooldown = error && error->cls == ErrorClass::kRateLimited ? std::max(0.0, error->retry_after_s) : 0;
  keys_.Release(key.index, cooldown);
  bool is_retry = call->attempts > 0;
  ++call->attempts;
  stats_.Record(StatsKey{provider_->info().name, call->model, endpoint_name, spec.label}, is_retry,
                error ? &*error : nullptr, latency_us, usage);

  if (!error) return call->Finish(std::nullopt);
  const BackoffPolicy& bp = config_.backoff;
  // A 429's Retry-After belongs to the key that got it (the key pool keeps it out that long);
  // with other keys available the retry need not wait for it.
  double floor_s = error->retry_after_s;
  if (error->cls == ErrorClass::kRateLimited && keys_.size() > 1) floor_s = -1;
  bool retry = IsRetryable(error->cls) && !call->retry_forbidden && call->attempts <= bp.max_retries &&
               floor_s <= bp.max_retry_after_s;
  double delay;
  {
    std::lock_guard<std::mutex> lock(rng_mu_);
    delay = BackoffDelay(bp, call->attempts, floor_s, rng_);
  }
  auto next = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
  if (retry && call->deadline && next >= *call->deadline) {
    retry = false;
    error->message += " (request deadline of " + std::to_string(static_cast<int>(config_.request_deadline_s)) + " s reached)";
  }
  if (!retry) {
    if (call->attempts > 1) error->message += " (after " + std::to_string(call->attempts) + " attempts)";
    return call->Finish(std::move(error));
  }
  scheduler_->Resubmit(call, next);
}

namespace {

// Builds a Call for a plain request/response operation with a typed result.
template <typename T>
std::shared_ptr<ApiClient::Call> MakeTypedCall(ApiClient* client, const Provider* provider, const HttpOptions* http,
                                               uint64_t id, Priority prio, std::string model,
                                               std::function<ApiResult<HttpRequest>(const Target&)> build,
                                               std::function<ApiResult<T>(const HttpResponse&)> parse,
                                               Callback<T> done) {
  auto call = std::make_shared<ApiClient::Call>();
  auto slot = std::make_shared<std::optional<T>>();
  call->client = client;
  call->id = id;
  call->priority = prio;
  call->model = std::move(model);
  call->build = std::move(build);
  call->perform = [provider, http, parse = std::move(parse), slot](const HttpRequest& req, Usage* usage) -> std::optional<ApiError> {
    auto resp = HttpSend(req, *http);
    if (!resp.ok()) return resp.error();
    if (resp->status < 200 || resp->status >= 300) return provider->ClassifyError(resp.value());
    auto parsed = parse(resp.value());
    if (!parsed.ok()) return parsed.error();
    *usage = UsageOf(parsed.value());
    *slot = std::move(parsed).value();
    return std::nullopt;
  };
  call->finish_fn = [slot, done = std::move(done), id](std::optional<ApiError> err) {
    if (err) done(id, std::move(*err));
    else done(id, std::move(**slot));
  };
  return call;
}

template <typename T>
std::pair<Callback<T>, std::future<ApiResult<T>>> PromiseCallback() {
  auto promise = std::make_shared<std::promise<ApiResult<T>>>();
  auto future = promise->get_future();
  return {[promise](uint64_t, ApiResult<T> r) { promise->set_value(std::move(r)); }, std::move(future)};
}

}  // namespace

uint64_t ApiClient::SubmitChat(ChatRequest req, Priority prio, Callback<ChatResponse> done) {
  uint64_t id = NextId();
  auto shared = std::make_shared<ChatRequest>(std::move(req));
  const Provider* p = provider_.get();
  auto call = MakeTypedCall<ChatResponse>(
      this, p, &config_.http, id, prio, shared->model,
      [p, shared](const Target& t) { return p->BuildChat(*shared, false, t); },
      [p, shared](const HttpResponse& r) { return p->ParseChat(*shared, r); }, std::move(done));
  Enqueue(call);
  return id;
}

uint64_t ApiClient::SubmitEmbed(EmbedRequest req, Priority prio, Callback<EmbedResponse> done) {
  if (batcher_) {
    uint64_t id = NextId();
    batcher_->Add(std::move(req), prio, id, std::move(done));
    return id;
  }
  return SubmitEmbedDirect(std::move(req), prio, std::move(done));
}

uint64_t ApiClient::SubmitEmbedDirect(EmbedRequest req, Priority prio, Callback<EmbedResponse> done) {
  uint64_t id = NextId();
  auto shared = std::make_shared<EmbedRequest>(std::move(req));
  const Provider* p = provider_.get();
  auto call = MakeTypedCall<EmbedResponse>(
      this, p, &config_.http, id, prio, shared->model,
      [p, shared](const Target& t) { return p->BuildEmbed(*shared, t); },
      [p, shared](const HttpResponse& r) { return p->ParseEmbed(*shared, r); }, std::move(done));
  Enqueue(call);
  return id;
}

uint64_t ApiClient::SubmitRerank(RerankRequest req, Priority prio, Callback<RerankResponse> done) {
  uint64_t id = NextId();
  auto shared = std::make_shared<RerankRequest>(std::move(req));
  const Provider* p = provider_.get();
  auto call = MakeTypedCall<RerankResponse>(
      this, p, &config_.http, id, prio, shared->model,
      [p, shared](const Target& t) { return p->BuildRerank(*shared, t); },
      [p, shared](const HttpResponse& r) { return p->ParseRerank(*shared, r); }, std::move(done));
  Enqueue(call);
  return id;
}

uint64_t ApiClient::SubmitInfer(KServeInferRequest req, Priority prio, Callback<KServeInferResponse> done) {
  uint64_t id = NextId();
  auto shared = std::make_shared<KServeInferRequest>(std::move(req));
  const Provider* p = provider_.get();
  auto call = MakeTypedCall<KServeInferResponse>(
      this, p, &config_.http, id, prio, shared->model,
      [p, shared](const Target& t) { return p->BuildInfer(*shared, t); },
      [p, shared](const HttpResponse& r) { return p->ParseInfer(*shared, r); }, std::move(done));
  Enqueue(call);
  return id;
}

uint64_t ApiClient::SubmitChatStream(ChatRequest req, Priority prio, ChunkCallback on_chunk, Callback<ChatResponse> done) {
  uint64_t id = NextId();
  auto shared = std::make_shared<ChatRequest>(std::move(req));
  const Provider* p = provider_.get();
  auto call = std::make_shared<Call>();
  auto slot = std::make_shared<ChatResponse>();
  call->client = this;
  call->id = id;
  call->priority = prio;
  call->model = shared->model;
  call->build = [p, shared](const Target& t) { return p->BuildChat(*shared, true, t); };
  Call* raw = call.get();
  const HttpOptions* http = &config_.http;
  call->perform = [p, shared, slot, raw, http, on_chunk = std::move(on_chunk)](const HttpRequest& req,
                                                                              Usage* usage) -> std::optional<ApiError> {
    *slot = ChatResponse{};
    slot->model = shared->model;
    std::optional<ApiError> parse_error;
    bool done = false;
    auto handle = [&](std::string_view event, std::string_view data) -> bool {
      auto step = p->ParseStreamEvent(*shared, event, data);
      if (!step.ok()) {
        parse_error = step.error();
        return false;
      }
      const ChatChunk& c = step->chunk;
      if (!c.text.empty() || step->kind != StreamStep::kSkip) {
        slot->text += c.text;
        if (!c.finish_reason.empty()) slot->finish_reason = c.finish_reason;
        if (c.usage) {
          slot->usage.prompt_tokens = std::max(slot->usage.prompt_tokens, c.usage->prompt_tokens);
          slot->usage.completion_tokens = std::max(slot->usage.completion_tokens, c.usage->completion_tokens);
        }
        if (!c.text.empty()) {
          raw->retry_forbidden = true;  // the caller has seen output: a retry would repeat it
          if (on_chunk) on_chunk(c);
        }
      }
      if (step->kind == StreamStep::kDone) done = true;
      return !done;
    };
    SseParser sse;
    NdjsonSplitter ndjson;
    std::optional<ApiError> framing_error;
    bool is_ndjson = p->ChatStreamFormat(*shared) == StreamFormat::kNdjson;
    BodySink sink = [&](std::string_view bytes) -> bool {
      Status st = is_ndjson ? ndjson.Feed(bytes, [&](std::string_view line) { return handle("", line); })
                            : sse.Feed(bytes, [&](const SseEvent& e) { return handle(e.event, e.data); });
      if (!st.ok()) {
        framing_error = MakeError(ErrorClass::kProtocol, p->info().name + ": " + st.message());
        return false;
      }
      return !parse_error && !done;
    };
    auto resp = HttpSend(req, *http, &sink);
    if (framing_error) return framing_error;
    if (parse_error) return parse_error;
    if (!resp.ok()) return resp.error();
    if (resp->status < 200 || resp->status >= 300) return p->ClassifyError(resp.value());
    if (!done && (is_ndjson ? ndjson.HasPartialLine() : sse.HasPartialEvent()))
      return MakeError(ErrorClass::kProtocol, p->info().name + ": stream ended in the middle of an event");
    if (!done && is_ndjson)  // Ollama always ends with a done:true object
      return MakeError(ErrorClass::kProtocol, p->info().name + ": stream ended before its final object");
    *usage = slot->usage;
    return std::nullopt;
  };
  call->finish_fn = [slot, done = std::move(done), id](std::optional<ApiError> err) {
    if (err) done(id, std::move(*err));
    else done(id, std::move(*slot));
  };
  Enqueue(call);
  return id;
}

ApiResult<ChatResponse> ApiClient::Chat(ChatRequest req, Priority prio) {
  auto [cb, f] = PromiseCallback<ChatResponse>();
  SubmitChat(std::move(req), prio, std::move(cb));
  return Wait(std::move(f));
}

ApiResult<ChatResponse> ApiClient::ChatStream(ChatRequest req, ChunkCallback on_chunk, Priority prio) {
  auto [cb, f] = PromiseCallback<ChatResponse>();
  SubmitChatStream(std::move(req), prio, std::move(on_chunk), std::move(cb));
  return Wait(std::move(f));
}

ApiResult<EmbedResponse> ApiClient::Embed(EmbedRequest req, Priority prio) {
  auto [cb, f] = PromiseCallback<EmbedResponse>();
  SubmitEmbed(std::move(req), prio, std::move(cb));
  return Wait(std::move(f));
}

ApiResult<RerankResponse> ApiClient::Rerank(RerankRequest req, Priority prio) {
  auto [cb, f] = PromiseCallback<RerankResponse>();
  SubmitRerank(std::move(req), prio, std::move(cb));
  return Wait(std::move(f));
}

ApiResult<KServeInferResponse> ApiClient::Infer(KServeInferRequest req, Priority prio) {
  auto [cb, f] = PromiseCallback<KServeInferResponse>();
  SubmitInfer(std::move(req), prio, std::move(cb));
  return Wait(std::move(f));
}

}  // namespace accel::api
