#pragma once
// A bounded, prioritised work queue drained by a fixed set of workers (the concurrency
// limit). Three priorities are served in a weighted cycle (high 4 : normal 2 : low 1), so
// under sustained high-priority load a low request still runs within every seventh pick;
// an empty class hands its turn to the next. Tasks may be re-entered with a not-before time
// (retries after backoff) without holding a worker while they wait.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "api/wire/types.h"

namespace accel::api {

class Task {
 public:
  virtual ~Task() = default;
  virtual void Run() = 0;     // on a worker thread
  virtual void Cancel() = 0;  // the scheduler shut down before Run; must finish the request
  Priority priority = Priority::kNormal;
};

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  Scheduler(int workers, size_t capacity);
  ~Scheduler();  // cancels what never ran, then joins the workers
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Admits a new task; false when the queue already holds `capacity` waiting tasks.
  bool Submit(std::shared_ptr<Task> task);
  // Re-enters an admitted task (a retry); never refused, runs no earlier than `not_before`.
  void Resubmit(std::shared_ptr<Task> task, Clock::time_point not_before);
  size_t waiting() const;

 private:
  struct Delayed {
    Clock::time_point when;
    uint64_t seq;
    std::shared_ptr<Task> task;
    bool operator>(const Delayed& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  void WorkerLoop();
  std::shared_ptr<Task> PopReadyLocked();
  void PromoteDueLocked(Clock::time_point now);

  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> ready_[3];
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<Delayed>> delayed_;
  uint64_t seq_ = 0;
  size_t cycle_pos_ = 0;
  size_t waiting_ = 0;  // ready + delayed
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace accel::api
