#pragma once
// `accel serve`: an HTTP/1.1 server (cpp-httplib) over local models, speaking the wire formats
// clients already use: OpenAI (/v1/...), Ollama (/api/...), TEI (/embed, /info), TGI (/generate,
// /generate_stream), plus /health
// and /metrics. See docs/SERVE.md.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace accel::serve {

class ModelRegistry;

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port (tests); port() tells which
  std::vector<std::string> models;  // -m arguments: PATH or NAME=PATH
  std::string device = "auto";
  std::string memory_limit;  // each model must fit this budget before it loads (placement/admission.h)
  std::vector<std::string> api_keys;  // empty: no authentication
  double key_rate_per_minute = 0;     // requests per minute per API key (429 beyond); 0: no limit
  size_t max_body_bytes = 8 << 20;
  int max_queue = 8;           // per model: requests waiting beyond the running ones before 429
  int parallel = 4;            // per generator: sequences decoded together (continuous batching)
  int64_t slot_context = 2048; // per generator: tokens of one sequence (prompt + output), capped by the model
  std::string kv_cache = "f32"; // per generator: KV cache storage, f32 | q8_0 | q4_0
  int http_threads = 32;       // cpp-httplib worker threads (each open connection holds one)
  int64_t max_tokens = 4096;   // cap on a request's max_tokens
  // Texts one embedding forward may carry across requests waiting for the model; 1: no batching,
  // the default, as batching measured no faster on a 2-core CPU (docs/SERVE.md "Embedding batches").
  size_t max_embed_batch = 1;
  int retry_after_s = 1;       // Retry-After on 429
  std::string cors_origin;     // empty: no CORS headers
  int read_timeout_s = 30;     // a client that sends nothing for this long is dropped
  int keep_alive_timeout_s = 5;
  std::vector<std::string> routes;  // --route NAME=PROVIDER:TARGET,... (docs/SERVE.md "Routing")
  std::string config_path;          // --config serve.json: {"routes": {...}}
};

class Server {
 public:
  // Loads every model, binds; does not serve until Start().
  static Result<std::unique_ptr<Server>> Create(const ServeOptions& options);
  ~Server();

  int port() const;
  // Serves on a background thread.
  void Start();
  // Serves on the caller's thread until Stop() (from another thread or a signal handler thread).
  void Run();
  void Stop();
  // The served models (tests hold a model's slot through it to fill its queue).
  ModelRegistry& registry();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace accel::serve
