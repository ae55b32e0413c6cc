// accel api <provider> chat|embed ...; accel api stats. Keys come from the provider's usual
// environment variable (several keys: comma-separated); they are never printed. Each run adds
// its statistics to a stats file (ACCEL_API_STATS, default ~/.cache/accel/api-stats.json)
// that `accel api stats` prints.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/client.h"
#include "api/resilience/stats_file.h"
#include "core/redact.h"
#include "cli/api_s3_cli.h"
#include "cli/command.h"

namespace accel::cli {
namespace {

struct ApiOptions {
  std::string provider, base_url, model, system;
  std::vector<std::string> words;
  bool stream = false, json = false;
  int max_tokens = 0;
  int timeout_s = 120;
  int retries = 4;
};

std::string StatsPath() {
  if (const char* p = std::getenv("ACCEL_API_STATS")) return p;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.cache/accel/api-stats.json";
}

void SaveStats(const api::ApiStats& stats) {
  Status st = api::MergeStatsIntoFile(StatsPath(), stats);
  if (!st.ok()) std::fprintf(stderr, "warning: statistics not saved: %s\n", RedactForDisplay(st.message()).c_str());
}

// http://localhost:8000/v1, http://127.0.0.1, http://[::1]:8080
bool IsLoopbackUrl(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string host = url.substr(start, url.find_first_of("/?#", start) - start);
  if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<std::unique_ptr<api::ApiClient>> MakeClient(const ApiOptions& o) {
  api::ClientConfig cfg;
  cfg.provider = o.provider;
  auto probe = api::MakeProvider(o.provider);
  if (!probe) return InvalidArgument("unknown provider '" + o.provider + "' (see accel api --help)");
  if (!o.base_url.empty()) cfg.base_urls = {o.base_url};
  cfg.keys = api::KeysFromEnv(probe->info().key_env);
  cfg.http.timeout_ms = o.timeout_s * 1000;
  cfg.request_deadline_s = o.timeout_s;  // --timeout is the whole request, retries included
  cfg.backoff.max_retries = o.retries;
  cfg.concurrency = 2;
  ACCEL_ASSIGN_OR_RETURN(auto client, api::ApiClient::Create(cfg));
  // A hosted API answers a request without a key with 401 after a round trip (and some
  // proxies log it): name the missing variable before anything is sent. Servers on this
  // machine (vLLM, TGI, Ollama on localhost) usually run without auth.
  const std::string& env = probe->info().key_env;
  const std::string url = o.base_url.empty() ? probe->info().default_base_url : o.base_url;
  if (!env.empty() && cfg.keys.empty() && !IsLoopbackUrl(url)) {
    return InvalidArgument(o.provider + " needs an API key: set " + env + " (several keys: comma-separated); " + url +
                           " was not contacted");
  }
  return client;
}

int RunChat(const ApiOptions& o) {
  if (o.words.empty()) return ReportError(InvalidArgument("chat needs a PROMPT"));
  auto client = MakeClient(o);
  if (!client.ok()) return ReportError(client.status());
  api::ChatRequest req;
  req.model = o.model;
  if (!o.system.empty()) req.messages.push_back({"system", o.system});
  std::string prompt;
  for (const auto& w : o.words) prompt += (prompt.empty() ? "" : " ") + w;
  req.messages.push_back({"user", prompt});
  if (o.max_tokens > 0) req.max_tokens = o.max_tokens;
  api::ApiResult<api::ChatResponse> r = o.stream
      ? (*client)->ChatStream(req, [](const api::ChatChunk& c) { std::fwrite(c.text.data(), 1, c.text.size(), stdout); std::fflush(stdout); })
      : (*client)->Chat(req);
  SaveStats((*client)->stats());
  if (!r.ok()) return ReportError(r.error().ToStatus());
  if (o.json) {
    nlohmann::json j = {{"text", r->text}, {"finish_reason", r->finish_reason}, {"model", r->model},
                        {"usage", {{"prompt_tokens", r->usage.prompt_tokens}, {"completion_tokens", r->usage.completion_tokens}}}};
    if (o.stream) std::printf("\n");
    std::printf("%s\n", j.dump().c_str());
  } else if (o.stream) {
    std::printf("\n");
  } else {
    std::printf("%s\n", r->text.c_str());
  }
  return kExitOk;
}

int RunEmbed(const ApiOptions& o) {
  if (o.words.empty()) return ReportError(InvalidArgument("embed needs at least one TEXT"));
  auto client = MakeClient(o);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->Embed(api::EmbedRequest{o.model, o.words});
  SaveStats((*client)->stats());
  if (!r.ok()) return ReportError(r.error().ToStatus());
  nlohmann::json j = {{"model", r->model}, {"embeddings", r->embeddings}};
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

std::string KeyEnv(const std::string& provider) {
  auto p = api::MakeProvider(provider);
  return p ? p->info().key_env : std::string();
}

Action SetupApi(CLI::App& app) {
  auto o = std::make_shared<ApiOptions>();
  auto action = std::make_shared<Action>();
  app.require_subcommand(1);
  std::string names;
  for (const auto& n : api::ProviderNames()) names += n + " ";
  for (const std::string& provider : api::ProviderNames()) {
    CLI::App* p = app.add_subcommand(provider, "remote " + provider + " API");
    p->require_subcommand(1);
    for (const char* verb : {"chat", "embed"}) {
      CLI::App* v = p->add_subcommand(verb, std::string(verb) + " through " + provider);
      v->add_option("--base-url", o->base_url, "server base URL (default: the provider's public API)");
      v->add_option("-m,--model", o->model, "model name");
      v->add_option("--timeout", o->timeout_s, "seconds for the whole request")->check(CLI::Range(1, 3600));
      v->add_option("--retries", o->retries, "retries after the first attempt")->check(CLI::Range(0, 20));
      v->add_option("words", o->words, std::string(verb) == std::string("chat") ? "PROMPT" : "TEXT...");
      if (std::string(verb) == "chat") {
        v->add_flag("--stream", o->stream, "print the answer as it streams");
        v->add_option("--system", o->system, "system message");
        v->add_option("-n,--max-tokens", o->max_tokens, "answer length limit (0: the provider's default)");
        v->add_flag("--json", o->json, "print text, finish reason and usage as JSON");
      }
      const std::string key_env = KeyEnv(provider);
      if (!key_env.empty()) {
        v->footer("Environment:\n  " + key_env + "  API key (comma-separated for several); required unless --base-url is a server " +
                  "on this machine\n  ACCEL_API_STATS  statistics file (default ~/.cache/accel/api-stats.json)");
      }
      bool is_chat = std::string(verb) == "chat";
      v->callback([o, action, provider, is_chat] {
        o->provider = provider;
        *action = [o, is_chat] { return is_chat ? RunChat(*o) : RunEmbed(*o); };
      });
    }
  }
  AddS3Commands(app, action);
  CLI::App* stats = app.add_subcommand("stats", "print request statistics kept by earlier runs");
  bool stats_json = false;
  auto stats_json_ptr = std::make_shared<bool>(false);
  stats->add_flag("--json", *stats_json_ptr, "print JSON");
  stats->callback([action, stats_json_ptr] {
    *action = [stats_json_ptr] {
      api::ApiStats s;
      Status loaded = api::LoadStatsFile(StatsPath(), &s);
      if (!loaded.ok()) return ReportError(loaded);
      if (*stats_json_ptr) std::printf("%s\n", s.ToJson().dump(2).c_str());
      else std::printf("%s", s.ToTable().c_str());
      return kExitOk;
    };
  });
  (void)stats_json;
  return [action] { return *action ? (*action)() : kExitBadInput; };
}

}  // namespace
ACCEL_REGISTER_COMMAND("api", "call remote inference APIs (OpenAI, Claude, Gemini, Ollama, TGI, TEI, ...)", SetupApi);
}  // namespace accel::cli
