// What `accel serve`'s router adds to a request: an upstream OpenAI-compatible server that answers
// at once (cpp-httplib on loopback), reached directly and through `accel serve --route
// r=openai:UPSTREAM` (the real serve::Server, in this process), under the same open-loop load:
// requests are sent on a fixed schedule (--rate per second over --connections keep-alive
// connections), and latency is measured from each request's scheduled time, so a stall is not
// hidden by the load backing off. Prints one JSON line per target and the added p50/p99.
//
//   route_overhead [--rate 2000] [--seconds 10] [--connections 16]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/latency_stats.h"
#include "serve/server.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* kAnswer = R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"upstream",
  "choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";

struct Run {
  std::vector<double> latency_ms;
  int64_t failed = 0;
  double seconds = 0;
};

// `rate` requests/s spread over `connections` threads, each on its own schedule.
Run Load(int port, const std::string& model, double rate, double seconds, int connections) {
  const std::string body = json{{"model", model}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 1}}.dump();
  Run run;
  std::mutex mu;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  const auto period = std::chrono::duration<double>(static_cast<double>(connections) / rate);
  const int64_t per_connection = static_cast<int64_t>(rate * seconds / connections);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(10, 0);
      std::vector<double> mine;
      int64_t failed = 0;
      const auto offset = std::chrono::duration<double>(period.count() * c / connections);
      for (int64_t i = 0; i < per_connection; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(offset + period * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        auto res = cli.Post("/v1/chat/completions", body, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
        if (!res || res->status != 200) {
          ++failed;
          continue;
        }
        mine.push_back(ms);
      }
      std::lock_guard lock(mu);
      run.latency_ms.insert(run.latency_ms.end(), mine.begin(), mine.end());
      run.failed += failed;
    });
  }
  for (auto& t : threads) t.join();
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

json Report(const std::string& target, const Run& r) {
  return {{"target", target}, {"requests", r.latency_ms.size()}, {"failed", r.failed},
          {"rate", static_cast<double>(r.latency_ms.size()) / r.seconds},
          {"p50_ms", accel::bench::Percentile(r.latency_ms, 50)}, {"p99_ms", accel::bench::Percentile(r.latency_ms, 99)},
          {"p999_ms", accel::bench::Percentile(r.latency_ms, 99.9)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("latency accel serve's router adds over an upstream that answers at once");
  double rate = 2000, seconds = 10;
  int connections = 16;
  app.add_option("--rate", rate, "requests per second, open loop")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds)->check(CLI::PositiveNumber);
  app.add_option("--connections", connections, "keep-alive client connections")->check(CLI::Range(1, 1024));
  CLI11_PARSE(app, argc, argv);

  httplib::Server upstream;
  upstream.set_tcp_nodelay(true);
  upstream.set_keep_alive_max_count(1000);
  upstream.new_task_queue = [connections] { return new httplib::ThreadPool(static_cast<size_t>(connections + 8)); };
  upstream.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) { res.set_content(kAnswer, "application/json"); });
  const int upstream_port = upstream.bind_to_any_port("127.0.0.1");
  std::thread upstream_thread([&] { upstream.listen_after_bind(); });

  accel::serve::ServeOptions o;
  o.port = 0;
  o.http_threads = connections + 8;
  o.routes = {"r=openai:http://127.0.0.1:" + std::to_string(upstream_port) + "/v1"};
  auto server = accel::serve::Server::Create(o);
  if (!server.ok()) {
    std::fprintf(stderr, "route_overhead: %s\n", server.status().message().c_str());
    return 2;
  }
  (*server)->Start();

  Load(upstream_port, "upstream", rate, 1, connections);  // warm both paths' connections
  Load((*server)->port(), "r", rate, 1, connections);
  const Run direct = Load(upstream_port, "upstream", rate, seconds, connections);
  const Run routed = Load((*server)->port(), "r", rate, seconds, connections);
  std::printf("%s\n%s\n", Report("direct", direct).dump().c_str(), Report("routed", routed).dump().c_str());
  json added = {{"added_p50_ms", accel::bench::Percentile(routed.latency_ms, 50) - accel::bench::Percentile(direct.latency_ms, 50)},
                {"added_p99_ms", accel::bench::Percentile(routed.latency_ms, 99) - accel::bench::Percentile(direct.latency_ms, 99)},
                {"rate", rate}, {"connections", connections}, {"seconds", seconds}};
  std::printf("%s\n", added.dump().c_str());
  (*server)->Stop();
  upstream.stop();
  upstream_thread.join();
  return direct.failed + routed.failed > 0 ? 1 : 0;
}
