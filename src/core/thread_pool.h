#pragma once
// One thread pool for the whole process: every parallel kernel runs on it, and no other pool
// (OpenMP, OpenBLAS threads) is allowed to spin beside it — two spinning pools on two cores
// make two threads slower than one.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace accel {

class ThreadPool {
 public:
  // `num_threads` counts the calling thread: 1 means run everything inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, num_tasks), tasks claimed dynamically; the caller works too
  // and the call returns when all tasks are done. Calls from inside a task run inline.
  void Run(int64_t num_tasks, const std::function<void(int64_t)>& fn);

  // Splits [0, n) into about one contiguous range per thread (at least `grain` long) and calls
  // fn(begin, end) on each.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // The process-wide pool. Its size comes from SetDefaultThreads(), else ACCEL_NUM_THREADS,
  // else the number of cores this process may run on.
  static ThreadPool& Global();
  // Must be called before the first Global(); returns false if the pool already exists.
  static bool SetDefaultThreads(int n);
  static int DetectedThreads();

 private:
  void WorkerLoop(int index);
  void Work();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};
  std::atomic<int64_t> next_task_{0};
  int64_t num_tasks_ = 0;
  const std::function<void(int64_t)>* fn_ = nullptr;
  bool stop_ = false;
};

}  // namespace accel
