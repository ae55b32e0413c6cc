// OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings.
// Streams are server-sent events ending in "data: [DONE]".
#include <memory>

#include "serve/routes.h"

namespace accel::serve {
namespace {

using json = nlohmann::json;


json Usage(const GenOutcome& o) {
  return {{"prompt_tokens", o.prompt_tokens}, {"completion_tokens", o.completion_tokens}, {"total_tokens", o.prompt_tokens + o.completion_tokens}};
}

struct StreamState {
  std::unique_ptr<ServedModel::Ticket> ticket;
  GenRequest request;
  PreparedPrompt prompt;
  ServedModel* model = nullptr;
  std::string shown;  // the model name in answers: the served model's, or the route's
  std::string id, route;
  int64_t created = 0;
  std::chrono::steady_clock::time_point start;
};

// Runs an admitted request on a local model; answers name the model `shown`.
void ServeLocal(Context& ctx, httplib::Response& res, bool chat, const std::string& route, ServedModel* m, const std::string& shown,
                GenRequest r, PreparedPrompt prompt, std::unique_ptr<ServedModel::Ticket> ticket) {
  const std::string id = RequestId(chat ? "chatcmpl" : "cmpl");
  const int64_t created = NowSeconds();
  const bool has_text = m->tokenizer() != nullptr;

  if (!r.stream) {
    GenOutcome out;
    if (auto e = RunGeneration(*m, r, prompt, [](int64_t, const std::string&) { return true; }, &out)) return SendError(res, Api::kOpenAi, *e);
    ticket.reset();
    RecordGeneration(ctx, m->name(), out);
    json choice = {{"index", 0}, {"finish_reason", out.finish_reason}, {"logprobs", nullptr}};
    if (chat) choice["message"] = {{"role", "assistant"}, {"content", out.text}};
    else choice["text"] = out.text;
    if (!has_text || r.prompt_is_ids) choice["token_ids"] = out.tokens;  // extension: the generated ids
    json body = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", created}, {"model", shown},
                 {"choices", json::array({choice})}, {"usage", Usage(out)}};
    res.set_content(Dump(body), "application/json");
    return;
  }

  auto st = std::make_shared<StreamState>();
  st->ticket = std::move(ticket);
  st->request = std::move(r);
  st->prompt = std::move(prompt);
  st->model = m;
  st->shown = shown;
  st->id = id;
  st->route = route;
  st->created = created;
  st->start = std::chrono::steady_clock::now();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&ctx, st, chat, has_text](size_t, httplib::DataSink& sink) {
    auto send = [&sink](const json& j) {
      std::string frame = "data: " + Dump(j) + "\n\n";
      return sink.is_writable() && sink.write(frame.data(), frame.size());
    };
    const bool usage = st->request.include_usage;
    auto chunk = [&](json delta_or_text, const json& finish, const json* token_ids) {
      json choice = {{"index", 0}, {"finish_reason", finish}, {"logprobs", nullptr}};
      if (chat) choice["delta"] = std::move(delta_or_text);
      else choice["text"] = std::move(delta_or_text);
      if (token_ids) choice["token_ids"] = *token_ids;
      json j = {{"id", st->id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", st->created},
                {"model", st->shown}, {"choices", json::array({choice})}};
      if (usage) j["usage"] = nullptr;
      return j;
    };
    bool alive = true;
    if (chat) alive = send(chunk(json{{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
    const bool ids = !has_text || st->request.prompt_is_ids;
    GenOutcome out;
    std::optional<ServeError> err;
    if (alive) {
      err = RunGeneration(*st->model, st->request, st->prompt, [&](int64_t token, const std::string& text) {
        if (!ids && text.empty()) return sink.is_writable();  // text held back (a possible stop string): nothing to show yet
        json tid = json::array({token});
        return send(chunk(chat ? json{{"content", text}} : json(text), nullptr, ids ? &tid : nullptr));
      }, &out);
    }
    st->ticket.reset();  // the model is free for the next request
    RecordGeneration(ctx, st->model->name(), out);
    if (!alive || out.finish_reason == "cancelled") return false;  // client gone: close
    if (err) {
      send({{"error", {{"message", err->message}, {"type", err->type}, {"code", err->code.empty() ? json(nullptr) : json(err->code)}}}});
    } else {
      send(chunk(chat ? json::object() : json(""), out.finish_reason, nullptr));
      if (usage) {
        json u = {{"id", st->id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", st->created},
                  {"model", st->shown}, {"choices", json::array()}, {"usage", Usage(out)}};
        send(u);
      }
    }
    static const std::string kDone = "data: [DONE]\n\n";
    sink.write(kDone.data(), kDone.size());
    sink.done();
    RecordStream(ctx, st->route, st->start);
    return true;
  });
}


// A remote endpoint's complete answer, in the OpenAI format. For a streaming request (a remote
// stream that ended before any chunk) it is one content chunk, then the finish and [DONE].
void SendRemote(Context& ctx, httplib::Response& res, bool chat, const std::string& shown, const GenRequest& r,
                const api::ChatResponse& a) {
  const std::string id = RequestId(chat ? "chatcmpl" : "cmpl");
  const int64_t created = NowSeconds();
  const std::string finish = a.finish_reason.empty() ? "stop" : a.finish_reason;
  json usage = {{"prompt_tokens", a.usage.prompt_tokens}, {"completion_tokens", a.usage.completion_tokens},
                {"total_tokens", a.usage.prompt_tokens + a.usage.completion_tokens}};
  ctx.metrics.Tokens(shown, a.usage.prompt_tokens, a.usage.completion_tokens);
  const char* object = chat ? (r.stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  auto choice = [&](json content, const json& finish_reason) {
    json c = {{"index", 0}, {"finish_reason", finish_reason}, {"logprobs", nullptr}};
    if (!chat) c["text"] = std::move(content);
    else if (r.stream) c["delta"] = std::move(content);
    else c["message"] = std::move(content);
    return json{{"id", id}, {"object", object}, {"created", created}, {"model", shown}, {"choices", json::array({std::move(c)})}};
  };
  if (!r.stream) {
    json body = choice(chat ? json{{"role", "assistant"}, {"content", a.text}} : json(a.text), finish);
    body["usage"] = usage;
    res.set_content(Dump(body), "application/json");
    return;
  }
  std::string body;
  auto frame = [&body](const json& j) { body += "data: " + Dump(j) + "\n\n"; };
  frame(choice(chat ? json{{"role", "assistant"}, {"content", a.text}} : json(a.text), nullptr));
  frame(choice(chat ? json::object() : json(""), finish));
  if (r.include_usage) frame(json{{"id", id}, {"object", object}, {"created", created}, {"model", shown}, {"choices", json::array()}, {"usage", usage}});
  body += "data: [DONE]\n\n";
  res.set_header("Cache-Control", "no-cache");
  res.set_content(body, "text/event-stream");
}

// A remote stream that has started, relayed chunk by chunk as SSE in the OpenAI format.
void RelayRemoteStream(Context& ctx, httplib::Response& res, bool chat, const std::string& route, const std::string& shown,
                       const GenRequest& r, std::shared_ptr<RemoteStream> stream) {
  const std::string id = RequestId(chat ? "chatcmpl" : "cmpl");
  const int64_t created = NowSeconds();
  const bool include_usage = r.include_usage;
  const auto start = std::chrono::steady_clock::now();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&ctx, chat, route, shown, id, created, include_usage, start, stream](size_t, httplib::DataSink& sink) {
    auto send = [&sink](const json& j) {
      std::string frame = "data: " + Dump(j) + "\n\n";
      return sink.is_writable() && sink.write(frame.data(), frame.size());
    };
    const char* object = chat ? "chat.completion.chunk" : "text_completion";
    auto chunk = [&](json content, const json& finish) {
      json c = {{"index", 0}, {"finish_reason", finish}, {"logprobs", nullptr}};
      if (chat) c["delta"] = std::move(content);
      else c["text"] = std::move(content);
      json j = {{"id", id}, {"object", object}, {"created", created}, {"model", shown}, {"choices", json::array({std::move(c)})}};
      if (include_usage) j["usage"] = nullptr;
      return j;
    };
    bool alive = !chat || send(chunk(json{{"role", "assistant"}, {"content", ""}}, nullptr));
    api::ChatChunk c;
    while (alive && stream->Next(&c))
      if (!c.text.empty()) alive = send(chunk(chat ? json{{"content", c.text}} : json(c.text), nullptr));
    if (!alive) return false;  // client gone; the remote call finishes on its worker
    while (stream->Next(&c)) {
    }
    const auto& result = stream->result();
    if (!result.ok()) {
      send({{"error", {{"message", "remote endpoint: " + result.error().message}, {"type", "server_error"}, {"code", api::ErrorClassName(result.error().cls)}}}});
    } else {
      const api::ChatResponse& a = result.value();
      ctx.metrics.Tokens(shown, a.usage.prompt_tokens, a.usage.completion_tokens);
      send(chunk(chat ? json::object() : json(""), a.finish_reason.empty() ? "stop" : a.finish_reason));
      if (include_usage)
        send(json{{"id", id}, {"object", object}, {"created", created}, {"model", shown}, {"choices", json::array()},
                  {"usage", {{"prompt_tokens", a.usage.prompt_tokens}, {"completion_tokens", a.usage.completion_tokens},
                             {"total_tokens", a.usage.prompt_tokens + a.usage.completion_tokens}}}});
    }
    static const std::string kDone = "data: [DONE]\n\n";
    sink.write(kDone.data(), kDone.size());
    sink.done();
    RecordStream(ctx, route, start);
    return true;
  });
}

ServeError FromApiError(const api::ApiError& e) {
  ServeError out;
  out.status = e.http_status >= 400 && e.http_status < 600 ? e.http_status : e.cls == api::ErrorClass::kTimeout ? 504 : 502;
  out.type = out.status >= 500 ? "server_error" : "invalid_request_error";
  out.code = api::ErrorClassName(e.cls);
  out.message = "remote endpoint: " + e.message;
  return out;
}

api::ChatRequest ToChatRequest(const GenRequest& r, const std::string& model) {
  api::ChatRequest c;
  c.model = model;
  if (r.chat) {
    for (const auto& m : r.messages) c.messages.push_back({m.role, m.content});
  } else {
    c.messages.push_back({"user", r.prompt});
    c.raw_completion = true;
  }
  if (r.max_tokens >= 0) c.max_tokens = static_cast<int>(r.max_tokens);
  c.temperature = r.temperature;
  c.top_p = r.top_p;
  c.stop = r.stop;
  return c;
}

// A routed model: its endpoints in order, moving on when one is overloaded or unreachable.
void HandleRouted(Context& ctx, httplib::Response& res, bool chat, const std::string& route, GenRequest r) {
  const std::string name = r.model;
  std::optional<ServeError> refused, last;  // the first endpoint that could not take the request; the last failure
  bool overloaded = false;
  for (Endpoint* e : ctx.router->Plan(name)) {
    if (e->local()) {
      ServedModel* m = e->local_model();
      PreparedPrompt prompt;
      if (auto err = PreparePrompt(*m, r, ctx.limits, &prompt)) {  // this model cannot take it (no tokenizer, context): maybe the next
        if (!refused) refused = *err;
        continue;
      }
      auto ticket = m->TryAdmit();
      if (!ticket) {
        ctx.metrics.Failover(name, FailoverReasonName(FailoverReason::kOverload));
        last = Overloaded(name);
        overloaded = true;
        continue;
      }
      return ServeLocal(ctx, res, chat, route, m, name, std::move(r), std::move(prompt), std::move(ticket));
    }
    if (r.prompt_is_ids) {  // the API layer carries text only
      if (!refused) refused = ServeError{400, "invalid_request_error", "invalid_prompt", "route '" + name + "': remote endpoints take text prompts, not token ids"};
      continue;
    }
    std::optional<api::ApiResult<api::ChatResponse>> ended;
    if (r.stream) {
      // Failover is possible until the first chunk; after it the stream is relayed as it comes.
      auto stream = e->ChatStream(ToChatRequest(r, e->spec().model));
      if (stream->WaitStarted()) return RelayRemoteStream(ctx, res, chat, route, name, r, std::move(stream));
      ended.emplace(stream->result());
    } else {
      ended.emplace(e->Chat(ToChatRequest(r, e->spec().model)));
    }
    const auto& answer = *ended;
    if (answer.ok()) return SendRemote(ctx, res, chat, name, r, answer.value());
    auto reason = FailoverFor(answer.error());
    if (!reason) return SendError(res, Api::kOpenAi, FromApiError(answer.error()));  // the remote's verdict on the request
    ctx.metrics.Failover(name, FailoverReasonName(*reason));
    if (*reason == FailoverReason::kRateLimit || *reason == FailoverReason::kOverload || *reason == FailoverReason::kCircuitOpen) overloaded = true;
    last = FromApiError(answer.error());
  }
  if (overloaded) return SendOverloaded(ctx, res, Api::kOpenAi, name);
  if (refused) return SendError(res, Api::kOpenAi, *refused);
  SendError(res, Api::kOpenAi, last ? *last : ServeError{502, "server_error", "no_endpoint", "route '" + name + "' has no endpoint"});
}

void HandleGeneration(Context& ctx, const httplib::Request& req, httplib::Response& res, bool chat, const std::string& route) {
  auto parsed = chat ? ParseOpenAiChat(req.body) : ParseOpenAiCompletion(req.body);
  if (!parsed.ok()) return SendError(res, Api::kOpenAi, FromParseError(*parsed.error));
  GenRequest& r = parsed.value;
  if (ctx.router && ctx.router->Has(r.model)) return HandleRouted(ctx, res, chat, route, std::move(r));
  ServedModel* m = ctx.registry.Find(r.model);
  if (!m) return SendError(res, Api::kOpenAi, UnknownModel(r.model));
  PreparedPrompt prompt;
  if (auto e = PreparePrompt(*m, r, ctx.limits, &prompt)) return SendError(res, Api::kOpenAi, *e);
  auto ticket = m->TryAdmit();
  if (!ticket) return SendOverloaded(ctx, res, Api::kOpenAi, m->name());
  ServeLocal(ctx, res, chat, route, m, m->name(), std::move(r), std::move(prompt), std::move(ticket));
}

void SendEmbeddings(httplib::Response& res, const std::string& shown, bool base64, const EmbedOutcome& out) {
  json data = json::array();
  for (size_t i = 0; i < out.vectors.size(); ++i) {
    json e = {{"object", "embedding"}, {"index", i}};
    if (base64) e["embedding"] = Base64Floats(out.vectors[i]);
    else e["embedding"] = out.vectors[i];
    data.push_back(std::move(e));
  }
  json body = {{"object", "list"}, {"data", data}, {"model", shown},
               {"usage", {{"prompt_tokens", out.prompt_tokens}, {"total_tokens", out.prompt_tokens}}}};
  res.set_content(Dump(body), "application/json");
}

// A routed embedding model: the same order and failover as generation.
void HandleRoutedEmbedding(Context& ctx, httplib::Response& res, const EmbedRequest& r) {
  const std::string& name = r.model;
  std::optional<ServeError> refused, last;
  bool overloaded = false;
  for (Endpoint* e : ctx.router->Plan(name)) {
    EmbedOutcome out;
    if (e->local()) {
      ServedModel* m = e->local_model();
      auto ticket = m->TryAdmit();
      if (!ticket) {
        ctx.metrics.Failover(name, FailoverReasonName(FailoverReason::kOverload));
        overloaded = true;
        continue;
      }
      if (auto err = RunEmbeddingBatched(*m, *ticket, r, ctx.options.max_embed_batch, ctx.metrics, &out)) {
        if (err->status >= 500) return SendError(res, Api::kOpenAi, *err);
        if (!refused) refused = *err;
        continue;
      }
      ticket.reset();
    } else {
      if (r.texts.empty()) {  // the API layer carries text only
        if (!refused) refused = ServeError{400, "invalid_request_error", "invalid_input", "route '" + name + "': remote endpoints take text inputs, not token ids"};
        continue;
      }
      api::EmbedRequest q;
      q.model = e->spec().model;
      q.inputs = r.texts;
      q.normalize = r.normalize;
      auto answer = e->Embed(std::move(q));
      if (!answer.ok()) {
        auto reason = FailoverFor(answer.error());
        if (!reason) return SendError(res, Api::kOpenAi, FromApiError(answer.error()));
        ctx.metrics.Failover(name, FailoverReasonName(*reason));
        if (*reason == FailoverReason::kRateLimit || *reason == FailoverReason::kOverload || *reason == FailoverReason::kCircuitOpen) overloaded = true;
        last = FromApiError(answer.error());
        continue;
      }
      out.vectors = std::move(answer.value().embeddings);
      out.prompt_tokens = answer.value().usage.prompt_tokens;
    }
    ctx.metrics.Tokens(name, out.prompt_tokens, 0);
    return SendEmbeddings(res, name, r.base64, out);
  }
  if (overloaded) return SendOverloaded(ctx, res, Api::kOpenAi, name);
  if (refused) return SendError(res, Api::kOpenAi, *refused);
  SendError(res, Api::kOpenAi, last ? *last : ServeError{502, "server_error", "no_endpoint", "route '" + name + "' has no endpoint"});
}

}  // namespace

void RegisterOpenAiRoutes(httplib::Server& svr, Context& ctx) {
  auto model_json = [](const ServedModel& m) {
    return json{{"id", m.name()}, {"object", "model"}, {"created", m.created()}, {"owned_by", "accel"}};
  };
  svr.Get("/v1/models", Timed(ctx, "/v1/models", [&ctx, model_json](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    for (const auto& m : ctx.registry.models()) data.push_back(model_json(*m));
    if (ctx.router)
      for (const auto& name : ctx.router->Names()) data.push_back(json{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "accel-route"}});
    res.set_content(Dump({{"object", "list"}, {"data", data}}), "application/json");
  }));
  svr.Get(R"(/v1/models/(.+))", Timed(ctx, "/v1/models/{id}", [&ctx, model_json](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (ctx.router && ctx.router->Has(id))
      return res.set_content(Dump({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "accel-route"}}), "application/json");
    ServedModel* m = ctx.registry.Find(id);
    if (!m) return SendError(res, Api::kOpenAi, UnknownModel(id));
    res.set_content(Dump(model_json(*m)), "application/json");
  }));
  svr.Post("/v1/chat/completions", Timed(ctx, "/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(ctx, req, res, true, "/v1/chat/completions");
  }));
  svr.Post("/v1/completions", Timed(ctx, "/v1/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(ctx, req, res, false, "/v1/completions");
  }));
  svr.Post("/v1/embeddings", Timed(ctx, "/v1/embeddings", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto p = ParseOpenAiEmbedding(req.body);
    if (!p.ok()) return SendError(res, Api::kOpenAi, FromParseError(*p.error));
    if (ctx.router && ctx.router->Has(p.value.model)) return HandleRoutedEmbedding(ctx, res, p.value);
    ServedModel* m = ctx.registry.Find(p.value.model);
    if (!m) return SendError(res, Api::kOpenAi, UnknownModel(p.value.model));
    auto ticket = m->TryAdmit();
    if (!ticket) return SendOverloaded(ctx, res, Api::kOpenAi, m->name());
    EmbedOutcome out;
    if (auto e = RunEmbeddingBatched(*m, *ticket, p.value, ctx.options.max_embed_batch, ctx.metrics, &out)) return SendError(res, Api::kOpenAi, *e);
    ticket.reset();
    ctx.metrics.Tokens(m->name(), out.prompt_tokens, 0);
    SendEmbeddings(res, m->name(), p.value.base64, out);
  }));
}

}  // namespace accel::serve
