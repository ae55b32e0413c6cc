#pragma once
// A process-wide cache of loaded models keyed by (model, device, dtype). Concurrent users of the
// same key share one copy (the second caller waits for the first load instead of loading
// twice); each device has a memory budget, and idle models are evicted least-recently-used
// first to make room, or after an idle timeout. Models in use are never evicted.
//
// Thread safety: every method may be called from any thread. Loaders run without the pool's
// lock held, so slow loads of different models proceed in parallel. A Lease must not outlive
// its pool.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

namespace accel {

struct PoolKey {
  std::string model;   // folder, HF id or content id
  std::string device;  // "cpu", "cuda:0", ...
  std::string dtype;   // "f32", "bf16", "q4_0", ...
  auto operator<=>(const PoolKey&) const = default;
  std::string ToString() const { return model + " on " + device + " as " + dtype; }
};

struct LoadContext {
  bool low_memory = false;  // loaders should map weights without copies and keep arenas small
};

struct LoadedModel {
  std::shared_ptr<void> object;  // the model (type known to whoever loads and uses it)
  int64_t bytes = 0;             // memory it holds on its device
};

using ModelLoader = std::function<Result<LoadedModel>(const LoadContext&)>;

struct PoolOptions {
  int64_t default_budget_bytes = 0;                  // per device, when not in device_budgets
  std::map<std::string, int64_t> device_budgets;     // "cuda:0" -> bytes
  std::chrono::milliseconds idle_timeout{0};         // 0: idle models stay until space is needed
  bool low_memory = false;
  std::function<std::chrono::steady_clock::time_point()> clock;  // tests inject time; default steady_clock
};

struct PoolStats {
  int64_t hits = 0, misses = 0, loads = 0, load_failures = 0, evictions = 0, expirations = 0, refusals = 0;
  std::map<std::string, int64_t> bytes_in_use;  // per device, loaded models (idle or not)
  std::map<std::string, int64_t> peak_bytes;    // per device, highest bytes_in_use seen
  int64_t models = 0;
};

class ResourcePool {
 private:
  struct Entry;

 public:
  // Shared access to a loaded model; the model becomes idle (evictable) when the last lease goes.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    template <typename T>
    T* As() const { return static_cast<T*>(object_.get()); }
    const PoolKey& key() const;
    explicit operator bool() const { return entry_ != nullptr; }

   private:
    friend class ResourcePool;
    Lease(ResourcePool* pool, std::shared_ptr<Entry> entry, std::shared_ptr<void> object)
        : pool_(pool), entry_(std::move(entry)), object_(std::move(object)) {}
    void Reset();
    ResourcePool* pool_ = nullptr;
    std::shared_ptr<Entry> entry_;
    std::shared_ptr<void> object_;
  };

  explicit ResourcePool(PoolOptions options);
  ~ResourcePool();
  ResourcePool(const ResourcePool&) = delete;
  ResourcePool& operator=(const ResourcePool&) = delete;

  // Returns the cached model or loads it. `estimated_bytes` (from the memory estimator), when
  // given, makes room and refuses before loading; the loader's reported size is then charged.
  // Errors: the loader's error, or OutOfMemory naming the device, need and budget.
  Result<Lease> Acquire(const PoolKey& key, const ModelLoader& loader, int64_t estimated_bytes = 0);

  // Evicts idle models past the idle timeout; returns how many. The reaper thread calls it.
  int EvictExpired();
  // Evicts every idle model (e.g. on memory pressure); returns how many.
  int EvictAllIdle();
  // Runs EvictExpired every `interval` on a background thread until the pool is destroyed.
  void StartReaper(std::chrono::milliseconds interval);

  PoolStats Stats() const;
  int64_t BudgetFor(const std::string& device) const;
  bool low_memory() const { return options_.low_memory; }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point Now() const;
  void Release(const std::shared_ptr<Entry>& entry);
  // Frees idle models on `device` (LRU first) until `bytes` more fit; false if they cannot.
  // Evicted objects are moved to `graveyard` so they are destroyed after the lock is dropped.
  bool MakeRoomLocked(const std::string& device, int64_t bytes, const Entry* keep,
                      std::vector<std::shared_ptr<void>>& graveyard);
  void EraseLocked(std::map<PoolKey, std::shared_ptr<Entry>>::iterator it, std::vector<std::shared_ptr<void>>& graveyard);

  PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<PoolKey, std::shared_ptr<Entry>> entries_;
  std::map<std::string, int64_t> charged_;  // per device: loaded + reserved bytes
  PoolStats stats_;
  std::thread reaper_;
  bool stopping_ = false;
  std::condition_variable reaper_wake_;
};

}  // namespace accel
