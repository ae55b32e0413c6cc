// The bounded load test of `accel serve` (issue 17): the real binary on loopback under mixed
// traffic from 8 keep-alive clients for ACCEL_LOAD_SECONDS (default 60): completions from token
// ids, streamed chat, embeddings, Ollama and TGI generation, malformed bodies and clients that
// hang up mid-stream. Every answer must be the expected status, and the server's resident memory
// after warm-up must stay flat. CTest runs it with the `slow` label (not under sanitizers).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Resident set of `pid` in KiB, from /proc (0 when gone).
long RssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// `accel serve` as a child process on an ephemeral port, stopped with SIGTERM.
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  FILE* out = nullptr;
  explicit ServeProcess(const std::string& args) {
    // `exec` keeps the pid that `echo $$` printed.
    out = popen(("echo $$; exec " + std::string(ACCEL_CLI_PATH) + " serve --port 0 " + args + " 2>&1").c_str(), "r");
    if (!out) return;
    char line[512];
    if (fgets(line, sizeof line, out)) pid = std::atoi(line);
    while (fgets(line, sizeof line, out)) {
      const std::string s(line);
      const auto at = s.find("http://127.0.0.1:");
      if (at != std::string::npos) {
        port = std::atoi(s.c_str() + at + 17);
        break;
      }
    }
  }
  ~ServeProcess() {
    if (pid > 0) kill(pid, SIGTERM);
    if (out) pclose(out);
  }
};

struct Tally {
  std::mutex mu;
  std::map<std::string, int> ok, bad;
  std::vector<std::string> failures;
  void Add(const std::string& kind, bool good, const std::string& what) {
    std::lock_guard lock(mu);
    (good ? ok : bad)[kind]++;
    if (!good && failures.size() < 10) failures.push_back(kind + ": " + what);
  }
};

TEST(ServeLoad, MixedTrafficHasNoErrorsAndFlatMemory) {
  const char* env = std::getenv("ACCEL_LOAD_SECONDS");
  const int seconds = env ? std::max(5, std::atoi(env)) : 60;
  const std::string llama = test::LlamaTinyWithWordTokenizer("serve_load_llama");
  const std::string bert = test::BertTinyWithTokenizer("serve_load_bert");
  ServeProcess server("-m chat=" + llama + " -m bert=" + bert + " --max-queue 16 --max-embed-batch 8");
  ASSERT_GT(server.pid, 0);
  ASSERT_GT(server.port, 0) << "the server did not say where it listens";

  Tally tally;
  std::atomic<bool> stop{false};
  auto client = [&](int id) {
    httplib::Client c("127.0.0.1", server.port);
    c.set_read_timeout(30, 0);
    c.set_keep_alive(true);
    for (int n = 0; !stop; ++n) {
      const int kind = (n + id) % 7;
      const std::string words = "w" + std::to_string(1 + (n * 7 + id) % 200) + " w" + std::to_string(1 + (n * 13) % 200);
      if (kind == 0) {
        auto r = c.Post("/v1/completions", json({{"model", "chat"}, {"prompt", {1, 2 + n % 100, 3}}, {"max_tokens", 8}, {"temperature", 0}}).dump(), "application/json");
        tally.Add("completions", r && r->status == 200, r ? r->body.substr(0, 200) : "no answer");
      } else if (kind == 1) {
        auto r = c.Post("/v1/chat/completions",
                        json({{"model", "chat"}, {"messages", {{{"role", "user"}, {"content", words}}}}, {"max_tokens", 8}, {"stream", true}}).dump(),
                        "application/json");
        tally.Add("chat stream", r && r->status == 200 && r->body.find("data: [DONE]") != std::string::npos, r ? r->body.substr(0, 200) : "no answer");
      } else if (kind == 2) {
        auto r = c.Post("/v1/embeddings", json({{"model", "bert"}, {"input", {words, "the cat sat"}}}).dump(), "application/json");
        tally.Add("embeddings", r && r->status == 200, r ? r->body.substr(0, 200) : "no answer");
      } else if (kind == 3) {
        auto r = c.Post("/api/generate", json({{"model", "chat"}, {"prompt", words}, {"raw", true}, {"options", {{"num_predict", 6}}}}).dump(), "application/json");
        tally.Add("ollama stream", r && r->status == 200 && r->body.find("\"done\":true") != std::string::npos, r ? r->body.substr(0, 200) : "no answer");
      } else if (kind == 4) {
        auto r = c.Post("/generate", json({{"inputs", words}, {"parameters", {{"max_new_tokens", 6}}}}).dump(), "application/json");
        tally.Add("tgi", r && r->status == 200, r ? r->body.substr(0, 200) : "no answer");
      } else if (kind == 5) {
        auto r = c.Post("/v1/chat/completions", "{\"model\": \"chat\", \"messages\": [", "application/json");
        tally.Add("malformed", r && r->status == 400, r ? r->body.substr(0, 200) : "no answer");
      } else {
        // A client that hangs up after the first streamed bytes.
        httplib::Client quitter("127.0.0.1", server.port);
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.set_header("Content-Type", "application/json");
        req.body = json({{"model", "chat"}, {"prompt", {1, 2, 3}}, {"max_tokens", 64}, {"stream", true}}).dump();
        int chunks = 0;
        req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 2; };
        auto r = quitter.send(req);
        tally.Add("hang-up", chunks >= 1, "no chunk before hanging up");
      }
    }
  };

  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) clients.emplace_back(client, i);
  std::vector<long> rss;  // one sample a second
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    rss.push_back(RssKiB(server.pid));
  }
  stop = true;
  for (auto& t : clients) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  int total = 0, failed = 0;
  for (const auto& [kind, n] : tally.ok) {
    total += n;
    std::printf("%-14s %6d ok %4d failed\n", kind.c_str(), n, tally.bad[kind]);
  }
  for (const auto& [kind, n] : tally.bad) failed += n;
  std::printf("%d requests in %.1f s (%.0f/s); server RSS KiB:", total + failed, elapsed, (total + failed) / elapsed);
  for (size_t i = 0; i < rss.size(); i += std::max<size_t>(1, rss.size() / 10)) std::printf(" %ld", rss[i]);
  std::printf(" ... %ld\n", rss.empty() ? 0 : rss.back());
  EXPECT_EQ(failed, 0) << (tally.failures.empty() ? "" : tally.failures.front());
  EXPECT_GT(total, seconds * 10) << "the server answered too few requests";
  // Flat: after the first fifth (arenas, KV caches and thread stacks reach their size), the
  // resident set grows by less than 10% + 8 MiB.
  ASSERT_GE(rss.size(), 5u);
  const long warm = rss[rss.size() / 5];
  long peak_after = 0;
  for (size_t i = rss.size() / 5; i < rss.size(); ++i) peak_after = std::max(peak_after, rss[i]);
  EXPECT_LE(peak_after, warm + warm / 10 + 8 * 1024) << "resident memory grew from " << warm << " to " << peak_after << " KiB";
  EXPECT_EQ(waitpid(server.pid, nullptr, WNOHANG), 0) << "the server exited during the test";
}

}  // namespace
}  // namespace accel
