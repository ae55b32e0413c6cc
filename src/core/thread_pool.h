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

#include "core/status.h"

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
  // and the call returns when all tasks are done. It waits only for tasks, never for a worker
  // that claimed none (a worker the OS has not yet run costs nothing). Calls from inside a task
  // run inline. Calls from several outside threads at once (two models served side by side) take
  // turns, one job at a time.
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
  // Bounds for the pool size, shared by --threads and ACCEL_NUM_THREADS.
  static constexpr int kMaxThreads = 1024;
  // ACCEL_NUM_THREADS parsed strictly: 0 when unset or empty, an error naming the variable when
  // it is not an integer in [1, kMaxThreads].
  static Result<int> ThreadsFromEnvironment();

 private:
  void WorkerLoop(int index);
  // Claims and runs tasks of the current job until none is left.
  void Work();
  void RunBatch(int64_t num_tasks, const std::function<void(int64_t)>& fn);

  std::vector<std::thread> workers_;
  // Held by the outside thread whose job is current: the job word, fn_ and done_ describe one
  // job, so a second submitter waits (it never holds anything the first one needs).
  std::mutex submit_mu_;
  std::mutex mu_;
  std::condition_variable wake_;
  // Bumped once per job: what sleeping or spinning workers watch for.
  std::atomic<uint64_t> generation_{0};
  // The current job as one word, next task index (high 32 bits) and task count (low 32 bits):
  // a claim is a compare-exchange on it, so a worker that wakes late, holding a word of a job
  // that has ended, cannot claim from the next one with a stale count.
  std::atomic<uint64_t> job_{0};
  std::atomic<int64_t> done_{0};  // tasks of the current job finished
  // Read only by a thread holding a claimed task of the job it belongs to.
  const std::function<void(int64_t)>* fn_ = nullptr;
  bool stop_ = false;
};

}  // namespace accel
