// Text Generation Inference routes: /generate (one JSON answer), /generate_stream (SSE, one
// event per token, the last carrying generated_text and details) and / (either, by "stream").
// TGI serves one model, so requests name none: the only generation model here, or "model".
#include <memory>
#include <optional>

#include "serve/routes.h"

namespace accel::serve {
namespace {

using json = nlohmann::json;


// TGI's finish reasons: "length", "eos_token", "stop_sequence".
std::string FinishReason(const GenOutcome& out) {
  if (out.finish_reason == "length") return "length";
  return out.stopped_by_string ? "stop_sequence" : "eos_token";
}

json Details(const GenRequest& r, const GenOutcome& out) {
  return {{"finish_reason", FinishReason(out)}, {"generated_tokens", out.completion_tokens},
          {"seed", r.seed ? json(*r.seed) : json(nullptr)}};
}

// One generated token as TGI describes it (`special`: the end-of-sequence token that ended it);
// accel does not compute log-probabilities.
json Token(int64_t id, const std::string& text, bool special = false) {
  return {{"id", id}, {"text", text}, {"logprob", nullptr}, {"special", special}};
}

std::string GeneratedText(const GenRequest& r, const GenOutcome& out) { return r.return_full_text ? r.prompt + out.text : out.text; }

ServedModel* Pick(Context& ctx, const GenRequest& r, ServeError* error) {
  if (!r.model.empty()) {
    ServedModel* m = ctx.registry.Find(r.model);
    if (!m) *error = UnknownModel(r.model);
    return m;
  }
  ServedModel* m = ctx.registry.OnlyOfKind(ServedModel::Kind::kGenerate);
  if (!m) *error = ServeError{400, "", "", "several generation models are served (or none): name one with \"model\""};
  return m;
}

void Handle(Context& ctx, const httplib::Request& req, httplib::Response& res, std::optional<bool> stream, const std::string& route) {
  auto parsed = ParseTgiGenerate(req.body);
  if (!parsed.ok()) return SendError(res, Api::kTei, FromParseError(*parsed.error));
  GenRequest& r = parsed.value;
  ServeError error;
  ServedModel* m = Pick(ctx, r, &error);
  if (!m) return SendError(res, Api::kTei, error);
  if (m->kind() != ServedModel::Kind::kGenerate)
    return SendError(res, Api::kTei, ServeError{400, "", "", "model '" + m->name() + "' is an embedding model, not a generator"});
  if (!m->tokenizer()) return SendError(res, Api::kTei, ServeError{400, "", "", "model '" + m->name() + "' has no tokenizer: TGI's inputs are text"});
  auto prompt = std::make_shared<PreparedPrompt>();
  if (auto e = PreparePrompt(*m, r, ctx.limits, prompt.get())) return SendError(res, Api::kTei, *e);
  auto ticket = m->TryAdmit();
  if (!ticket) return SendOverloaded(ctx, res, Api::kTei, m->name());
  const auto start = std::chrono::steady_clock::now();
  if (!stream.value_or(r.stream)) {
    GenOutcome out;
    if (auto e = RunGeneration(*m, r, *prompt, [](int64_t, const std::string&) { return true; }, &out)) return SendError(res, Api::kTei, *e);
    ticket.reset();
    RecordGeneration(ctx, m->name(), out);
    json answer = {{"generated_text", GeneratedText(r, out)}};
    if (r.details) {
      json tokens = json::array();
      for (size_t i = 0; i < out.tokens.size(); ++i) {
        auto piece = m->tokenizer()->Decode({out.tokens[i]}, false);
        const bool eos = i + 1 == out.tokens.size() && FinishReason(out) == "eos_token";
        tokens.push_back(Token(out.tokens[i], piece.ok() ? *piece : std::string(), eos));
      }
      answer["details"] = Details(r, out);
      answer["details"]["prefill"] = json::array();
      answer["details"]["tokens"] = tokens;
    }
    res.set_content(Dump(answer), "application/json");
    return;
  }
  auto request = std::make_shared<GenRequest>(std::move(r));
  auto held = std::make_shared<std::unique_ptr<ServedModel::Ticket>>(std::move(ticket));
  res.set_chunked_content_provider("text/event-stream", [&ctx, m, held, request, prompt, start, route](size_t, httplib::DataSink& sink) {
    auto send = [&sink](const json& event) {
      std::string frame = "data:" + Dump(event) + "\n\n";
      return sink.is_writable() && sink.write(frame.data(), frame.size());
    };
    // Each token goes out when the next one arrives, so the last can carry generated_text and
    // details as TGI's does.
    std::optional<std::pair<int64_t, std::string>> pending;
    int64_t index = 0;
    auto event = [&](const std::pair<int64_t, std::string>& token) {
      return json{{"index", ++index}, {"token", Token(token.first, token.second)}, {"generated_text", nullptr}, {"details", nullptr}};
    };
    GenOutcome out;
    auto err = RunGeneration(*m, *request, *prompt, [&](int64_t id, const std::string& text) {
      const bool alive = !pending || send(event(*pending));
      pending.emplace(id, text);
      return alive;
    }, &out);
    held->reset();
    RecordGeneration(ctx, m->name(), out);
    if (out.finish_reason == "cancelled") return false;
    if (err) {
      send({{"error", err->message}, {"error_type", "generation"}});
    } else if (pending) {
      json last = event(*pending);
      last["token"]["special"] = FinishReason(out) == "eos_token";
      last["generated_text"] = GeneratedText(*request, out);
      last["details"] = Details(*request, out);
      send(last);
    }
    sink.done();
    RecordStream(ctx, route, start);
    return true;
  });
}

}  // namespace

void RegisterTgiRoutes(httplib::Server& svr, Context& ctx) {
  svr.Post("/generate", Timed(ctx, "/generate", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Handle(ctx, req, res, false, "/generate");
  }));
  svr.Post("/generate_stream", Timed(ctx, "/generate_stream", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Handle(ctx, req, res, true, "/generate_stream");
  }));
  svr.Post("/", Timed(ctx, "/", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Handle(ctx, req, res, std::nullopt, "/");
  }));
}

}  // namespace accel::serve
