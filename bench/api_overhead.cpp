// Per-request overhead of the API client core (bounded queue + scheduler worker + endpoint
// and key pools + provider build/parse + stats) against a cpp-httplib server on loopback that
// answers at once with a fixed OpenAI chat completion. The same requests are sent by a bare
// libcurl loop (one reused easy handle per thread, same headers and body): the difference of
// the two latency distributions is what the client adds. Then N callers run concurrently
// for a fixed time, through the client and bare, for requests/s.
//
//   api_overhead [--requests N] [--callers C] [--seconds S] [--compress 0|1]
#include <curl/curl.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/client.h"
#include "bench/latency_stats.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* kAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-bench",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}})";
const char* kRequestBody = R"({"model":"gpt-bench","messages":[{"role":"user","content":"hello"}]})";

size_t Discard(char*, size_t size, size_t n, void* out) {
  (void)out;  // the body is not needed, only that it arrived
  return size * n;
}

struct BareCurl {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  std::string sink;
  explicit BareCurl(const std::string& url) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer sk-bench");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, kRequestBody);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    // As api::HttpSend does: the server then compresses its answer the same way for both.
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  }
  ~BareCurl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
  bool Send() {
    long status = 0;
    return curl_easy_perform(curl) == CURLE_OK && curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
           status == 200;
  }
};

accel::api::ChatRequest Request() {
  accel::api::ChatRequest r;
  r.model = "gpt-bench";
  r.messages.push_back({"user", "hello"});
  return r;
}

// Runs `one()` from `callers` threads for `seconds`; requests/s.
template <typename MakeWorker>
double Throughput(int callers, double seconds, MakeWorker make_worker) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0}, failed{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < callers; ++t)
    threads.emplace_back([&] {
      auto one = make_worker();
      while (!stop.load(std::memory_order_relaxed)) {
        if (one()) done.fetch_add(1, std::memory_order_relaxed);
        else failed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed > 0) std::fprintf(stderr, "warning: %ld requests failed\n", failed.load());
  return done / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 5000, callers = 8;
  // cpp-httplib compresses (brotli/gzip) a plain "application/json" answer when the client
  // accepts it, as libcurl does here: the server's compression then dominates. The default
  // content type carries a charset, which httplib leaves uncompressed; --compress 1 restores it.
  const char* content_type = "application/json; charset=utf-8";
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--callers")) callers = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--compress")) content_type = std::atoi(argv[i + 1]) ? "application/json" : content_type;
    else {
      std::fprintf(stderr, "usage: api_overhead [--requests N] [--callers C] [--seconds S] [--compress 0|1]\n");
      return 2;
    }
  }
  if (requests < 10 || callers < 1 || seconds <= 0) {
    std::fprintf(stderr, "api_overhead: --requests >= 10, --callers >= 1, --seconds > 0\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  httplib::Server server;
  server.new_task_queue = [callers] { return new httplib::ThreadPool(std::max(8, callers * 2)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(100000000);
  server.set_keep_alive_timeout(1);
  server.Post("/v1/chat/completions", [content_type](const httplib::Request&, httplib::Response& res) {
    res.set_content(kAnswer, content_type);
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::string base = "http://127.0.0.1:" + std::to_string(port) + "/v1";

  accel::api::ClientConfig cfg;
  cfg.provider = "openai";
  cfg.base_urls = {base};
  cfg.keys = {{"key0", "sk-bench", 0}};
  cfg.concurrency = callers;
  auto client_or = accel::api::ApiClient::Create(cfg);
  if (!client_or.ok()) {
    std::fprintf(stderr, "api_overhead: %s\n", client_or.status().ToString().c_str());
    return 2;
  }
  auto& client = *client_or;

  // Sequential latency: alternate bare and client requests so drifting machine load hits both.
  std::vector<double> bare_us, client_us, transport_us;
  // The transport alone (api::HttpSend, no queue/threads/parsing): splits the added time.
  accel::api::HttpRequest http_req;
  http_req.url = base + "/chat/completions";
  http_req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-bench"}};
  http_req.body = kRequestBody;
  accel::api::HttpOptions http_opts;
  BareCurl bare(base + "/chat/completions");
  for (int i = 0; i < 200; ++i) {  // warm-up: connections, allocator, caches
    bare.Send();
    (void)client->Chat(Request());
  }
  for (int i = 0; i < requests; ++i) {
    auto t0 = Clock::now();
    if (!bare.Send()) return std::fprintf(stderr, "bare request failed\n"), 1;
    auto t1 = Clock::now();
    auto r = client->Chat(Request());
    auto t2 = Clock::now();
    if (!r.ok() || r->text.empty()) return std::fprintf(stderr, "client request failed\n"), 1;
    auto h = accel::api::HttpSend(http_req, http_opts);
    auto t3 = Clock::now();
    if (!h.ok() || h->status != 200) return std::fprintf(stderr, "HttpSend failed\n"), 1;
    transport_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
    bare_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    client_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  double bp50 = accel::bench::Percentile(bare_us, 50), bp99 = accel::bench::Percentile(bare_us, 99);
  double cp50 = accel::bench::Percentile(client_us, 50), cp99 = accel::bench::Percentile(client_us, 99);
  std::printf("sequential, %d requests each (1 caller):\n", requests);
  std::printf("  bare libcurl     p50 %8.1f us   p99 %8.1f us\n", bp50, bp99);
  std::printf("  api::HttpSend    p50 %8.1f us   p99 %8.1f us   (transport only, caller's thread)\n",
              accel::bench::Percentile(transport_us, 50), accel::bench::Percentile(transport_us, 99));
  std::printf("  ApiClient::Chat  p50 %8.1f us   p99 %8.1f us\n", cp50, cp99);
  std::printf("  added by client  p50 %8.1f us   p99 %8.1f us\n", cp50 - bp50, cp99 - bp99);

  double client_rps = Throughput(callers, seconds, [&] {
    return [&] {
      auto r = client->Chat(Request());
      return r.ok();
    };
  });
  std::string url = base + "/chat/completions";
  double bare_rps = Throughput(callers, seconds, [&] {
    auto b = std::make_shared<BareCurl>(url);
    return [b] { return b->Send(); };
  });
  std::printf("concurrent, %d callers, %.1f s each:\n", callers, seconds);
  std::printf("  bare libcurl     %9.0f requests/s\n", bare_rps);
  std::printf("  ApiClient::Chat  %9.0f requests/s\n", client_rps);

  client.reset();
  server.stop();
  listener.join();
  curl_global_cleanup();
  return 0;
}
