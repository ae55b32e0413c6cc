#pragma once
// A scriptable mock provider server on 127.0.0.1 (a free port), built on cpp-httplib. Tests
// queue answers per path (status, headers, body, or a stream of chunks with delays) and can
// make it misbehave: 429 + Retry-After, 5xx, slow answers, connections dropped mid-body,
// malformed JSON, answers that never end. Every request it receives is recorded.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace accel::test {

struct MockReply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                 // sent whole, unless chunks are given
  std::vector<std::string> chunks;  // streamed with chunked encoding, one write each
  int delay_ms = 0;                 // before the headers
  int chunk_delay_ms = 0;           // between chunks
  bool drop_mid_body = false;       // close the connection after the first chunk/half the body
  bool never_end = false;           // keep sending keep-alive bytes until the client gives up
};

struct MockRequest {
  std::string method, path, body;
  std::multimap<std::string, std::string> headers;  // as httplib keeps them (case-insensitive lookup)
  std::string target;  // the request target as sent: raw (still percent-encoded) path and query
  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
  }
};

class MockServer {
 public:
  using Handler = std::function<MockReply(const MockRequest&)>;

  MockServer() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
    server_.set_tcp_nodelay(true);  // headers and body go in separate writes: avoid 40 ms delayed-ACK stalls
    server_.set_keep_alive_max_count(1000000);
    server_.set_keep_alive_timeout(30);
    server_.set_read_timeout(30, 0);
    server_.set_write_timeout(30, 0);
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); };
    server_.Get(".*", dispatch);
    server_.Post(".*", dispatch);
    server_.Put(".*", dispatch);
    server_.Delete(".*", dispatch);
    server_.Options(".*", dispatch);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs: wait for it so the destructor cannot hang.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~MockServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& suffix = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + suffix;
  }

  // Answers queued for a path (path without query) are used first, in order; after them the
  // path's handler (if any), else 404.
  void Queue(const std::string& path, MockReply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    queued_[path].push_back(std::move(reply));
  }
  void Handle(const std::string& path, Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handlers_[path] = std::move(h);
  }
  // Answers every path that has no queued answer and no handler of its own.
  void HandleAny(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    any_handler_ = std::move(h);
  }
  std::vector<MockRequest> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t RequestCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  void KeepRequests(bool keep) { keep_requests_ = keep; }

 private:
  void Serve(const httplib::Request& req, httplib::Response& res) {
    MockRequest r{req.method, req.path, req.body, {}, req.target};
    for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
    MockReply reply;
    bool found = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (keep_requests_) requests_.push_back(r);
      auto q = queued_.find(req.path);
      if (q != queued_.end() && !q->second.empty()) {
        reply = std::move(q->second.front());
        q->second.pop_front();
        found = true;
      }
    }
    if (!found) {
      Handler h;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = handlers_.find(req.path);
        if (it != handlers_.end()) h = it->second;
        else h = any_handler_;
      }
      if (h) reply = h(r);
      else {
        reply = MockReply{};
        reply.status = 404;
        reply.body = R"({"error":{"message":"no route )" + req.path + R"("}})";
      }
    }
    Respond(reply, res);
  }

  void Respond(const MockReply& reply, httplib::Response& res) {
    if (reply.delay_ms > 0) SleepUnlessStopping(reply.delay_ms);
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    if (reply.never_end) {
      res.set_chunked_content_provider(reply.content_type, [this](size_t, httplib::DataSink& sink) {
        if (stopping_) return false;
        sink.write(":\n", 2);  // an SSE comment: valid bytes, never an event
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return true;
      });
      return;
    }
    if (!reply.chunks.empty() || reply.drop_mid_body) {
      std::vector<std::string> chunks = reply.chunks;
      if (chunks.empty()) chunks = {reply.body.substr(0, reply.body.size() / 2), reply.body.substr(reply.body.size() / 2)};
      auto state = std::make_shared<size_t>(0);
      int delay = reply.chunk_delay_ms;
      bool drop = reply.drop_mid_body;
      res.set_chunked_content_provider(reply.content_type, [this, chunks, state, delay, drop](size_t, httplib::DataSink& sink) {
        size_t i = (*state)++;
        if (i > 0 && delay > 0) SleepUnlessStopping(delay);
        if (drop && i == 1) return false;  // close without the terminating chunk
        if (i >= chunks.size()) {
          sink.done();
          return true;
        }
        sink.write(chunks[i].data(), chunks[i].size());
        return true;
      });
      return;
    }
    res.set_content(reply.body, reply.content_type.c_str());
  }

  void SleepUnlessStopping(int ms) {
    for (int waited = 0; waited < ms && !stopping_; waited += 5)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5, ms - waited)));
  }

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> keep_requests_{true};
  mutable std::mutex mu_;
  std::map<std::string, std::deque<MockReply>> queued_;
  std::map<std::string, Handler> handlers_;
  Handler any_handler_;
  std::vector<MockRequest> requests_;
};

// Shorthands for the common answers.
inline MockReply JsonReply(int status, std::string body) {
  MockReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
inline MockReply SseReply(std::vector<std::string> events) {
  MockReply r;
  r.content_type = "text/event-stream";
  r.chunks = std::move(events);
  return r;
}

}  // namespace accel::test
