#include "core/thread_pool.h"

#include <cerrno>

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
  uint64_t job = job_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t next = job >> 32, count = job & 0xffffffffu;
    if (next >= count) break;
    if (!job_.compare_exchange_weak(job, job + (uint64_t{1} << 32), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      continue;  // `job` now holds the current word
    }
    (*fn_)(static_cast<int64_t>(next));
    done_.fetch_add(1, std::memory_order_release);
    job = job_.load(std::memory_order_acquire);
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
      if (stop_) return;
    }
    seen = gen;
    Work();  // finds nothing left when the caller (or another worker) took every task already
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
  std::lock_guard<std::mutex> one_job_at_a_time(submit_mu_);
  // The job word holds 32-bit counts: larger jobs run as consecutive batches.
  constexpr int64_t kMaxBatch = int64_t{1} << 31;
  for (int64_t b = 0; b < num_tasks; b += kMaxBatch) {
    const int64_t count = std::min(kMaxBatch, num_tasks - b);
    if (b == 0) {
      RunBatch(count, fn);
    } else {
      std::function<void(int64_t)> shifted = [&](int64_t i) { fn(b + i); };
      RunBatch(count, shifted);
    }
  }
}

void ThreadPool::RunBatch(int64_t num_tasks, const std::function<void(int64_t)>& fn) {
  // No task of the previous job is unclaimed or running, so nobody reads fn_ or done_ now; the
  // release store of the new word publishes them to whoever claims from it.
  fn_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  job_.store(static_cast<uint64_t>(num_tasks), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  Work();
  // Spin briefly (the common case: a worker finishes its task within microseconds), then
  // yield so that a descheduled worker on an oversubscribed machine can run instead of us
  // burning its core.
  for (int spin = 0; done_.load(std::memory_order_acquire) != num_tasks; ++spin) {
    if (spin < kSpinIterations) ACCEL_CPU_RELAX();
    else std::this_thread::yield();
  }
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

Result<int> ThreadPool::ThreadsFromEnvironment() {
  const char* env = std::getenv("ACCEL_NUM_THREADS");
  if (!env || !*env) return 0;
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || v < 1 || v > kMaxThreads) {
    std::string shown(env);
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    return InvalidArgument("ACCEL_NUM_THREADS='" + shown + "': must be an integer from 1 to " + std::to_string(kMaxThreads));
  }
  return static_cast<int>(v);
}

ThreadPool& ThreadPool::Global() {
  static ThreadPool* pool = [] {
    int n = g_default_threads;
    if (n <= 0) {
      auto env = ThreadsFromEnvironment();  // an invalid value falls back to the detected count
      if (env.ok()) n = *env;
    }
    n = std::min(n, kMaxThreads);
    if (n <= 0) n = DetectedThreads();
    g_global_created = true;
    return new ThreadPool(n);  // intentionally never destroyed: workers outlive static dtors
  }();
  return *pool;
}

}  // namespace accel
