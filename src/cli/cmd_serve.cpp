// accel serve: an HTTP server over local models with OpenAI, Ollama, TEI and TGI wire formats
// (src/serve/, docs/SERVE.md). Runs until SIGINT / SIGTERM.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <set>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "serve/config_file.h"
#include "serve/server.h"

namespace accel::cli {
namespace {

Action SetupServe(CLI::App& app) {
  auto o = std::make_shared<serve::ServeOptions>();
  auto keys = std::make_shared<std::vector<std::string>>();
  app.add_option("--host", o->host, "address to bind (default 127.0.0.1: loopback only)");
  app.add_option("--port", o->port, "port (0: any free port, printed at start)")->check(CLI::Range(0, 65535));
  app.add_option("--model,-m", o->models, "model to serve: a folder, an HF id in the local cache or a .gguf; NAME=PATH names it (repeatable)");
  app.add_option("--route", o->routes, "NAME=PROVIDER:TARGET,... endpoints tried in order: local:MODEL (a -m name) or e.g. openai:http://host:port/v1 (repeatable; docs/SERVE.md)");
  app.add_option("--config", o->config_path, "JSON or TOML (.toml) file with settings and routes; command-line flags win (docs/SERVE.md)");
  app.add_option("--device", o->device, "device to run the models on");
  AddMemoryLimitOption(app, o->memory_limit);
  app.add_option("--api-key", *keys, "accept only requests with Authorization: Bearer KEY (repeatable; never logged)");
  app.add_option("--key-rate-limit", o->key_rate_per_minute, "requests per minute each --api-key may make (429 + Retry-After beyond; 0: no limit)")->check(CLI::NonNegativeNumber);
  app.add_option("--max-body", o->max_body_bytes, "largest request body in bytes (413 beyond)");
  app.add_option("--max-queue", o->max_queue, "requests that may wait per model behind the running ones (429 beyond)")->check(CLI::NonNegativeNumber);
  app.add_option("--parallel", o->parallel, "sequences each generator decodes together; new requests join between decode steps")->check(CLI::Range(1, 1024));
  app.add_option("--slot-context", o->slot_context, "tokens one generation may use, prompt included (capped by the model's context; sizes the KV cache)")->check(CLI::Range(2, 1 << 24));
  app.add_option("--kv-cache", o->kv_cache, "KV cache storage of each generator: f32, q8_0 or q4_0 (quantized: 3.8x / 7.1x smaller, head_dim a multiple of 32; docs/GENERATION.md)")->check(CLI::IsMember({"f32", "q8_0", "q4_0"}));
  app.add_option("--http-threads", o->http_threads, "HTTP worker threads: each open connection holds one")->check(CLI::Range(2, 4096));
  app.add_option("--max-embed-batch", o->max_embed_batch, "texts one embedding forward may carry, gathered from requests waiting for the model (1: no batching; docs/SERVE.md)")->check(CLI::Range(1, 4096));
  app.add_option("--max-tokens", o->max_tokens, "cap on a request's max_tokens")->check(CLI::PositiveNumber);
  app.add_option("--cors-origin", o->cors_origin, "send CORS headers allowing this origin (default: no CORS)");
  app.add_option("--read-timeout", o->read_timeout_s, "seconds a client may stay silent mid-request")->check(CLI::PositiveNumber);
  return [o, keys, &app] {
    o->api_keys = *keys;
    if (!o->config_path.empty()) {
      // The file's settings, under those given on the command line.
      std::set<std::string> given;
      for (const char* key : {"host", "port", "device", "memory_limit", "max_queue", "parallel", "slot_context", "kv_cache", "max_tokens", "max_body", "key_rate_limit",
                              "max_embed_batch", "http_threads", "read_timeout", "cors_origin"}) {
        std::string flag = std::string("--") + key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        if (app.count(flag) > 0) given.insert(key);
      }
      auto text = serve::ServeConfigAsJson(o->config_path);
      if (!text.ok()) return ReportError(text.status());
      if (Status s = serve::ApplyServeConfig(*text, o->config_path, given, o.get()); !s.ok()) return ReportError(s);
    }
    // SIGINT/SIGTERM are taken by sigwait below: block them before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    auto server = serve::Server::Create(*o);
    if (!server.ok()) return ReportError(server.status());
    std::fprintf(stderr, "accel serve: listening on http://%s:%d (%zu model%s%s)\n", o->host.c_str(), (*server)->port(), o->models.size(),
                 o->models.size() == 1 ? "" : "s", o->api_keys.empty() ? "" : ", API keys required");
    std::fflush(stderr);
    (*server)->Start();
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "accel serve: signal %d, stopping\n", sig);
    (*server)->Stop();
    return kExitOk;
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("serve", "serve local models over HTTP (OpenAI, Ollama, TEI, TGI APIs)", SetupServe);
}  // namespace accel::cli
