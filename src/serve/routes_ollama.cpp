// Ollama-compatible routes: /api/tags, /api/chat, /api/generate, /api/embed. Streams (the
// default in Ollama) are NDJSON: one JSON object per line, the last with "done": true.
#include <memory>

#include "core/clock.h"
#include "serve/routes.h"

namespace accel::serve {
namespace {

using json = nlohmann::json;


int64_t Nanos(std::chrono::steady_clock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

json Piece(const std::string& model, bool chat, const std::string& text) {
  json j = {{"model", model}, {"created_at", NowIsoUtc()}, {"done", false}};
  if (chat) j["message"] = {{"role", "assistant"}, {"content", text}};
  else j["response"] = text;
  return j;
}

json Final(const std::string& model, bool chat, const std::string& text, const GenOutcome& out, std::chrono::steady_clock::time_point start) {
  json j = Piece(model, chat, text);
  j["done"] = true;
  j["done_reason"] = out.finish_reason;
  j["total_duration"] = Nanos(std::chrono::steady_clock::now() - start);
  j["prompt_eval_count"] = out.prompt_tokens;
  j["eval_count"] = out.completion_tokens;
  return j;
}

void HandleGeneration(Context& ctx, const httplib::Request& req, httplib::Response& res, bool chat, const std::string& route) {
  auto parsed = chat ? ParseOllamaChat(req.body) : ParseOllamaGenerate(req.body);
  if (!parsed.ok()) return SendError(res, Api::kOllama, FromParseError(*parsed.error));
  ServedModel* m = ctx.registry.Find(parsed.value.model);
  if (!m) return SendError(res, Api::kOllama, UnknownModel(parsed.value.model));
  auto prompt = std::make_shared<PreparedPrompt>();
  if (auto e = PreparePrompt(*m, parsed.value, ctx.limits, prompt.get())) return SendError(res, Api::kOllama, *e);
  auto ticket = m->TryAdmit();
  if (!ticket) return SendOverloaded(ctx, res, Api::kOllama, m->name());
  const auto start = std::chrono::steady_clock::now();
  if (!parsed.value.stream) {
    GenOutcome out;
    if (auto e = RunGeneration(*m, parsed.value, *prompt, [](int64_t, const std::string&) { return true; }, &out)) return SendError(res, Api::kOllama, *e);
    ticket.reset();
    RecordGeneration(ctx, m->name(), out);
    res.set_content(Dump(Final(m->name(), chat, out.text, out, start)), "application/json");
    return;
  }
  auto request = std::make_shared<GenRequest>(std::move(parsed.value));
  // Shared, so that releasing it reaches every copy httplib keeps of the provider.
  auto held = std::make_shared<std::unique_ptr<ServedModel::Ticket>>(std::move(ticket));
  res.set_chunked_content_provider("application/x-ndjson", [&ctx, m, held, request, prompt, chat, start, route](size_t, httplib::DataSink& sink) {
    auto& ticket = *held;
    auto send = [&sink](const json& j) {
      std::string line = Dump(j) + "\n";
      return sink.is_writable() && sink.write(line.data(), line.size());
    };
    GenOutcome out;
    auto err = RunGeneration(*m, *request, *prompt, [&](int64_t, const std::string& text) {
      return text.empty() || send(Piece(m->name(), chat, text));
    }, &out);
    ticket.reset();
    RecordGeneration(ctx, m->name(), out);
    if (out.finish_reason == "cancelled") return false;
    if (err) send({{"error", err->message}});
    else send(Final(m->name(), chat, "", out, start));
    sink.done();
    RecordStream(ctx, route, start);
    return true;
  });
}

}  // namespace

void RegisterOllamaRoutes(httplib::Server& svr, Context& ctx) {
  svr.Get("/api/tags", Timed(ctx, "/api/tags", [&ctx](const httplib::Request&, httplib::Response& res) {
    json models = json::array();
    for (const auto& m : ctx.registry.models()) {
      models.push_back({{"name", m->name()}, {"model", m->name()}, {"modified_at", NowIsoUtc()}, {"size", 0}, {"digest", ""},
                        {"details", {{"family", m->model().config().model_type()}, {"format", "accel"}}}});
    }
    res.set_content(Dump({{"models", models}}), "application/json");
  }));
  svr.Get("/api/version", Timed(ctx, "/api/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"version":"0.0.0-accel"})", "application/json");
  }));
  svr.Post("/api/chat", Timed(ctx, "/api/chat", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(ctx, req, res, true, "/api/chat");
  }));
  svr.Post("/api/generate", Timed(ctx, "/api/generate", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(ctx, req, res, false, "/api/generate");
  }));
  svr.Post("/api/embed", Timed(ctx, "/api/embed", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    auto p = ParseOllamaEmbed(req.body);
    if (!p.ok()) return SendError(res, Api::kOllama, FromParseError(*p.error));
    ServedModel* m = ctx.registry.Find(p.value.model);
    if (!m) return SendError(res, Api::kOllama, UnknownModel(p.value.model));
    auto ticket = m->TryAdmit();
    if (!ticket) return SendOverloaded(ctx, res, Api::kOllama, m->name());
    EmbedOutcome out;
    if (auto e = RunEmbeddingBatched(*m, *ticket, p.value, ctx.options.max_embed_batch, ctx.metrics, &out)) return SendError(res, Api::kOllama, *e);
    ticket.reset();
    ctx.metrics.Tokens(m->name(), out.prompt_tokens, 0);
    res.set_content(Dump({{"model", m->name()}, {"embeddings", out.vectors}, {"total_duration", Nanos(std::chrono::steady_clock::now() - start)},
                          {"prompt_eval_count", out.prompt_tokens}}),
                    "application/json");
  }));
}

}  // namespace accel::serve
