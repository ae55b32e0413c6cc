#pragma once
// Embedding batching: compatible requests (same model and options) arriving within a time
// window are sent as one request of at most max_inputs inputs; the answer is split back so
// each caller gets exactly its own embeddings, in its own order. A failed batch fails each
// part with the batch's error.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "api/client.h"

namespace accel::api {

class ApiClient::Batcher {
 public:
  Batcher(ApiClient* client, BatchPolicy policy);
  ~Batcher();  // sends what is pending, then stops
  void Add(EmbedRequest req, Priority prio, uint64_t id, Callback<EmbedResponse> done);

 private:
  using Clock = std::chrono::steady_clock;
  struct Part {
    uint64_t id;
    size_t n_inputs;
    Callback<EmbedResponse> done;
  };
  struct Bucket {
    EmbedRequest combined;
    std::vector<Part> parts;
    Priority prio = Priority::kLow;
    Clock::time_point deadline;
  };
  void Loop();
  void Send(Bucket bucket);  // called without the lock

  ApiClient* client_;
  BatchPolicy policy_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, bool>, Bucket> open_;  // (model, normalize) -> bucket
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accel::api
