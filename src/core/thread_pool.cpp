#include "core/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#define ACCEL_CPU_RELAX() _mm_pause()
#else
#define ACCEL_CPU_RELAX() ((void)0)
#endif

namespace accel {

namespace {
thread_local bool t_inside_pool_task = false;
int g_default_threads = 0;
std::atomic<bool> g_global_created{false};

// Workers spin this many iterations after a job before sleeping: long enough to catch the
// next op of a forward pass (microseconds apart), short enough not to steal a core for long.
constexpr int kSpinIterations = 20000;
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  int extra = std::max(0, num_threads - 1);
  workers_.reserve(extra);
  for (int i = 0; i < extra; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Work() {
  bool saved = t_inside_pool_task;
  t_inside_pool_task = true;
  for (;;) {
    int64_t i = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (i >= num_tasks_) break;
    (*fn_)(i);
  }
  t_inside_pool_task = saved;
}

void ThreadPool::WorkerLoop(int) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      ACCEL_CPU_RELAX();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load() != seen || stop_; });
      gen = generation_.load();
    }
    if (stop_) return;
    seen = gen;
    Work();
    active_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::Run(int64_t num_tasks, const std::function<void(int64_t)>& fn) {
  if (num_tasks <= 0) return;
  if (workers_.empty() || num_tasks == 1 || t_inside_pool_task) {
    bool saved = t_inside_pool_task;
    t_inside_pool_task = true;
    for (int64_t i = 0; i < num_tasks; ++i) fn(i);
    t_inside_pool_task = saved;
    return;
  }
  fn_ = &fn;
  num_tasks_ = num_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  active_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  Work();
  // Spin briefly (the common case: workers finish within microseconds), then yield so that a
  // descheduled worker on an oversubscribed machine can run instead of us burning its core.
  for (int spin = 0; active_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinIterations) ACCEL_CPU_RELAX();
    else std::this_thread::yield();
  }
  fn_ = nullptr;
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t chunks = std::min<int64_t>(num_threads(), (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  int64_t step = (n + chunks - 1) / chunks;
  Run(chunks, [&](int64_t c) {
    int64_t begin = c * step;
    int64_t end = std::min(n, begin + step);
    if (begin < end) fn(begin, end);
  });
}

int ThreadPool::DetectedThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

bool ThreadPool::SetDefaultThreads(int n) {
  if (g_global_created.load()) return false;
  g_default_threads = n;
  return true;
}

ThreadPool& ThreadPool::Global() {
  static ThreadPool* pool = [] {
    int n = g_default_threads;
    if (n <= 0) {
      if (const char* env = std::getenv("ACCEL_NUM_THREADS")) n = std::atoi(env);
    }
    if (n <= 0) n = DetectedThreads();
    g_global_created = true;
    return new ThreadPool(n);  // intentionally never destroyed: workers outlive static dtors
  }();
  return *pool;
}

}  // namespace accel
