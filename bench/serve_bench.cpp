// Streaming generation load against an OpenAI-compatible server (`accel serve`, or any peer that
// speaks /v1/completions with token-id prompts): N clients, each posting streamed completions
// back to back for a fixed time. Prints one JSON line: requests, generated tokens, aggregate
// tokens/s, time to first token and request latency percentiles.
//
//   serve_bench --port P [--host 127.0.0.1] [--clients 8] [--seconds 30] [--prompt-tokens 64]
//               [--max-tokens 64] [--vocab 32000] [--model NAME] [--label accel]
//
// Generated tokens are the stream's usage chunk (stream_options.include_usage) where the server
// sends one, else one per chunk that carries text or token ids. Requests ask for `ignore_eos`
// so every stream runs to max_tokens on servers that honour it.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/latency_stats.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Sample {
  double ttft_ms = 0, total_ms = 0;
  int64_t tokens = 0;
};

// Chunks of one SSE stream, counted as they arrive.
struct StreamCounter {
  std::string buffer;
  int64_t tokens = 0, usage_tokens = -1;
  bool first_seen = false;
  Clock::time_point first;
  void Feed(const char* data, size_t len) {
    buffer.append(data, len);
    for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
      const std::string frame = buffer.substr(0, end);
      if (frame.rfind("data: ", 0) != 0 || frame == "data: [DONE]") continue;
      json j = json::parse(frame.substr(6), nullptr, false);
      if (!j.is_object()) continue;
      if (j.contains("usage") && j["usage"].is_object() && j["usage"].contains("completion_tokens"))
        usage_tokens = j["usage"]["completion_tokens"].get<int64_t>();
      if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) continue;
      const json& c = j["choices"][0];
      const bool has_ids = c.contains("token_ids") && c["token_ids"].is_array() && !c["token_ids"].empty();
      const bool has_text = c.contains("text") && c["text"].is_string() && !c["text"].get<std::string>().empty();
      if (!has_ids && !has_text) continue;
      tokens += has_ids ? static_cast<int64_t>(c["token_ids"].size()) : 1;
      if (!first_seen) first_seen = true, first = Clock::now();
    }
  }
  int64_t generated() const { return usage_tokens >= 0 ? usage_tokens : tokens; }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("streaming completion load against an OpenAI-compatible server");
  std::string host = "127.0.0.1", model = "model", label = "accel";
  int port = 0, clients = 8, prompt_tokens = 64, max_tokens = 64, vocab = 32000;
  double seconds = 30;
  app.add_option("--host", host);
  app.add_option("--port", port)->required();
  app.add_option("--clients", clients)->check(CLI::Range(1, 4096));
  app.add_option("--seconds", seconds)->check(CLI::PositiveNumber);
  app.add_option("--prompt-tokens", prompt_tokens)->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-tokens", max_tokens)->check(CLI::Range(1, 1 << 20));
  app.add_option("--vocab", vocab, "prompt ids are drawn from [10, vocab)")->check(CLI::Range(11, 1 << 24));
  app.add_option("--model", model);
  app.add_option("--label", label, "names the server in the output");
  CLI11_PARSE(app, argc, argv);

  std::mutex mu;
  std::vector<Sample> samples;
  std::atomic<int64_t> failures{0};
  std::string first_error;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(1234 + c);
      httplib::Client cli(host, port);
      cli.set_read_timeout(600, 0);
      cli.set_tcp_nodelay(true);
      cli.set_keep_alive(false);  // a connection per request: servers differ in when they close idle ones
      while (Clock::now() < deadline) {
        json prompt = json::array();
        for (int i = 0; i < prompt_tokens; ++i) prompt.push_back(10 + static_cast<int>(rng() % static_cast<uint32_t>(vocab - 10)));
        json body = {{"model", model}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0},
                     {"stream", true}, {"stream_options", {{"include_usage", true}}}, {"ignore_eos", true}};
        StreamCounter counter;
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.body = body.dump();
        req.set_header("Content-Type", "application/json");
        req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
          counter.Feed(data, len);
          return true;
        };
        const auto t0 = Clock::now();
        auto res = cli.send(req);
        const auto t1 = Clock::now();
        if (!res || res->status != 200 || counter.tokens == 0) {
          ++failures;
          std::lock_guard lock(mu);
          if (first_error.empty()) first_error = res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200) : "connection: " + httplib::to_string(res.error());
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        Sample s;
        s.tokens = counter.generated();
        s.ttft_ms = std::chrono::duration<double, std::milli>(counter.first - t0).count();
        s.total_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        std::lock_guard lock(mu);
        samples.push_back(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> ttft, total;
  int64_t tokens = 0;
  for (const Sample& s : samples) {
    ttft.push_back(s.ttft_ms);
    total.push_back(s.total_ms);
    tokens += s.tokens;
  }
  json out = {{"label", label}, {"clients", clients}, {"prompt_tokens", prompt_tokens}, {"max_tokens", max_tokens},
              {"requests", samples.size()}, {"failed", failures.load()}, {"tokens", tokens}, {"seconds", wall},
              {"tok_s", static_cast<double>(tokens) / wall},
              {"ttft_ms_p50", accel::bench::Percentile(ttft, 50)}, {"ttft_ms_p99", accel::bench::Percentile(ttft, 99)},
              {"latency_ms_p50", accel::bench::Percentile(total, 50)}, {"latency_ms_p99", accel::bench::Percentile(total, 99)}};
  if (!first_error.empty()) out["first_error"] = first_error;
  std::printf("%s\n", out.dump().c_str());
  return failures.load() > 0 && samples.empty() ? 1 : 0;
}
