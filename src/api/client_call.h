#pragma once
// One admitted request as the scheduler sees it: how to build an attempt, how to perform it
// (send + parse, keeping the typed result), and how to finish it exactly once.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/client.h"

namespace accel::api {

struct ApiClient::Call : Task, std::enable_shared_from_this<ApiClient::Call> {
  ApiClient* client = nullptr;
  uint64_t id = 0;
  std::string model;
  int attempts = 0;            // attempts made so far
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set at the first attempt
  bool retry_forbidden = false;  // set once a stream has delivered chunks
  std::function<ApiResult<HttpRequest>(const Target&)> build;
  // Sends the request and parses the answer; on success stores the typed result and fills
  // `usage`; returns the error otherwise.
  std::function<std::optional<ApiError>(const HttpRequest&, Usage* usage)> perform;
  std::function<void(std::optional<ApiError>)> finish_fn;
  std::atomic<bool> finished{false};

  void Finish(std::optional<ApiError> error) {
    // Exactly once, by construction; the flag turns a bug into a loud assert, not a double reply.
    bool was = finished.exchange(true);
    assert(!was && "request finished twice");
    if (!was) finish_fn(std::move(error));
  }
  void Run() override { client->RunAttempt(shared_from_this()); }
  void Cancel() override { Finish(MakeError(ErrorClass::kCancelled, "client shut down before the request ran")); }
};

}  // namespace accel::api
