#include "api/resilience/scheduler.h"

namespace accel::api {
namespace {
// The weighted cycle: indices into ready_ (0 high, 1 normal, 2 low).
constexpr int kCycle[] = {0, 1, 0, 2, 0, 1, 0};
constexpr size_t kCycleLen = sizeof(kCycle) / sizeof(kCycle[0]);
}  // namespace

Scheduler::Scheduler(int workers, size_t capacity) : capacity_(capacity) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() {
  std::vector<std::shared_ptr<Task>> leftovers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& q : ready_)
      for (auto& t : q) leftovers.push_back(std::move(t));
    while (!delayed_.empty()) {
      leftovers.push_back(delayed_.top().task);
      delayed_.pop();
    }
  }
  for (auto& t : leftovers) t->Cancel();
}

bool Scheduler::Submit(std::shared_ptr<Task> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || waiting_ >= capacity_) return false;
    ready_[static_cast<int>(task->priority)].push_back(std::move(task));
    ++waiting_;
  }
  cv_.notify_one();
  return true;
}

void Scheduler::Resubmit(std::shared_ptr<Task> task, Clock::time_point not_before) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    delayed_.push(Delayed{not_before, seq_++, std::move(task)});
    ++waiting_;
  }
  // Wake one worker so it recomputes its sleep deadline.
  cv_.notify_one();
}

size_t Scheduler::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

void Scheduler::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.top().when <= now) {
    auto task = delayed_.top().task;
    delayed_.pop();
    ready_[static_cast<int>(task->priority)].push_back(std::move(task));
  }
}

std::shared_ptr<Task> Scheduler::PopReadyLocked() {
  for (size_t tries = 0; tries < kCycleLen; ++tries) {
    int q = kCycle[cycle_pos_];
    cycle_pos_ = (cycle_pos_ + 1) % kCycleLen;
    if (!ready_[q].empty()) {
      auto t = std::move(ready_[q].front());
      ready_[q].pop_front();
      return t;
    }
  }
  return nullptr;
}

void Scheduler::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return;
    PromoteDueLocked(Clock::now());
    std::shared_ptr<Task> task = PopReadyLocked();
    if (task) {
      --waiting_;
      bool more = !ready_[0].empty() || !ready_[1].empty() || !ready_[2].empty();
      lock.unlock();
      if (more) cv_.notify_one();
      task->Run();
      task.reset();
      lock.lock();
      continue;
    }
    if (delayed_.empty()) cv_.wait(lock);
    else cv_.wait_until(lock, delayed_.top().when);
  }
}

}  // namespace accel::api
