#include "api/embed_batcher.h"

#include <algorithm>

namespace accel::api {

ApiClient::Batcher::Batcher(ApiClient* client, BatchPolicy policy) : client_(client), policy_(policy) {
  if (policy_.max_inputs < 1) policy_.max_inputs = 1;
  thread_ = std::thread([this] { Loop(); });
}

ApiClient::Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ApiClient::Batcher::Add(EmbedRequest req, Priority prio, uint64_t id, Callback<EmbedResponse> done) {
  std::vector<Bucket> to_send;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(req.model, req.normalize);
    auto it = open_.find(key);
    if (it != open_.end() && it->second.combined.inputs.size() + req.inputs.size() > policy_.max_inputs) {
      to_send.push_back(std::move(it->second));  // full: send it, start a new one
      open_.erase(it);
      it = open_.end();
    }
    if (it == open_.end()) {
      Bucket b;
      b.combined.model = req.model;
      b.combined.normalize = req.normalize;
      b.deadline = Clock::now() + std::chrono::milliseconds(policy_.window_ms);
      it = open_.emplace(key, std::move(b)).first;
    }
    Bucket& b = it->second;
    b.prio = std::min(b.prio, prio);  // a batch runs at its most urgent part's priority
    b.parts.push_back(Part{id, req.inputs.size(), std::move(done)});
    for (auto& in : req.inputs) b.combined.inputs.push_back(std::move(in));
    if (b.combined.inputs.size() >= policy_.max_inputs) {
      to_send.push_back(std::move(b));
      open_.erase(it);
    }
  }
  cv_.notify_one();
  for (auto& b : to_send) Send(std::move(b));
}

void ApiClient::Batcher::Send(Bucket bucket) {
  auto parts = std::make_shared<std::vector<Part>>(std::move(bucket.parts));
  size_t total = bucket.combined.inputs.size();
  client_->SubmitEmbedDirect(std::move(bucket.combined), bucket.prio,
                             [parts, total](uint64_t, ApiResult<EmbedResponse> result) {
    size_t offset = 0;
    for (Part& part : *parts) {
      if (!result.ok()) {
        part.done(part.id, result.error());
        continue;
      }
      const EmbedResponse& all = result.value();
      EmbedResponse mine;
      mine.model = all.model;
      for (size_t i = 0; i < part.n_inputs; ++i) mine.embeddings.push_back(all.embeddings[offset + i]);
      // Tokens are reported per batch; share them by input count.
      if (total) mine.usage.prompt_tokens = all.usage.prompt_tokens * static_cast<int64_t>(part.n_inputs) / static_cast<int64_t>(total);
      offset += part.n_inputs;
      part.done(part.id, std::move(mine));
    }
  });
}

void ApiClient::Batcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto now = Clock::now();
    std::vector<Bucket> due;
    for (auto it = open_.begin(); it != open_.end();) {
      if (stopping_ || it->second.deadline <= now) {
        due.push_back(std::move(it->second));
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& b : due) Send(std::move(b));
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (open_.empty()) {
      cv_.wait(lock);
    } else {
      auto next = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
                    return a.second.deadline < b.second.deadline;
                  })->second.deadline;
      cv_.wait_until(lock, next);
    }
  }
}

}  // namespace accel::api
