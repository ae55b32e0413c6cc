#include "placement/resource_pool.h"

#include <algorithm>

#include "hw/hw_report.h"

namespace accel {

struct ResourcePool::Entry {
  PoolKey key;
  bool loading = true;
  std::shared_ptr<void> object;
  int64_t bytes = 0;  // charged to the device (the reservation while loading)
  int users = 0;
  Clock::time_point last_used;
};

// ---- Lease -------------------------------------------------------------------------------

ResourcePool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), entry_(std::move(other.entry_)), object_(std::move(other.object_)) {
  other.pool_ = nullptr;
}

ResourcePool::Lease& ResourcePool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = other.pool_;
    entry_ = std::move(other.entry_);
    object_ = std::move(other.object_);
    other.pool_ = nullptr;
  }
  return *this;
}

ResourcePool::Lease::~Lease() { Reset(); }

void ResourcePool::Lease::Reset() {
  if (pool_ && entry_) pool_->Release(entry_);
  object_.reset();
  entry_.reset();
  pool_ = nullptr;
}

const PoolKey& ResourcePool::Lease::key() const { return entry_->key; }

// ---- Pool --------------------------------------------------------------------------------

ResourcePool::ResourcePool(PoolOptions options) : options_(std::move(options)) {}

ResourcePool::~ResourcePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  reaper_wake_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

ResourcePool::Clock::time_point ResourcePool::Now() const { return options_.clock ? options_.clock() : Clock::now(); }

int64_t ResourcePool::BudgetFor(const std::string& device) const {
  auto it = options_.device_budgets.find(device);
  return it != options_.device_budgets.end() ? it->second : options_.default_budget_bytes;
}

void ResourcePool::EraseLocked(std::map<PoolKey, std::shared_ptr<Entry>>::iterator it,
                               std::vector<std::shared_ptr<void>>& graveyard) {
  Entry& e = *it->second;
  charged_[e.key.device] -= e.bytes;
  if (!e.loading) {
    stats_.bytes_in_use[e.key.device] -= e.bytes;
    --stats_.models;
  }
  if (e.object) graveyard.push_back(std::move(e.object));
  entries_.erase(it);
}

bool ResourcePool::MakeRoomLocked(const std::string& device, int64_t bytes, const Entry* keep,
                                  std::vector<std::shared_ptr<void>>& graveyard) {
  const int64_t budget = BudgetFor(device);
  if (bytes > budget) return false;
  while (charged_[device] + bytes > budget) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const Entry& e = *it->second;
      if (e.key.device != device || e.loading || e.users > 0 || &e == keep) continue;
      if (victim == entries_.end() || e.last_used < victim->second->last_used) victim = it;
    }
    if (victim == entries_.end()) return false;  // everything left is in use or loading
    EraseLocked(victim, graveyard);
    ++stats_.evictions;
  }
  return true;
}

Result<ResourcePool::Lease> ResourcePool::Acquire(const PoolKey& key, const ModelLoader& loader,
                                                  int64_t estimated_bytes) {
  std::vector<std::shared_ptr<void>> graveyard;  // destroyed after the lock is released
  std::unique_lock<std::mutex> lock(mu_);
  std::shared_ptr<Entry> entry;
  for (;;) {
    auto it = entries_.find(key);
    if (it == entries_.end()) break;
    if (it->second->loading) {
      // Someone else is loading this key: wait for it rather than loading a second copy.
      changed_.wait(lock);
      continue;
    }
    entry = it->second;
    ++entry->users;
    ++stats_.hits;
    entry->last_used = Now();
    return Lease(this, entry, entry->object);
  }
  ++stats_.misses;
  if (estimated_bytes < 0) estimated_bytes = 0;
  if (!MakeRoomLocked(key.device, estimated_bytes, nullptr, graveyard)) {
    ++stats_.refusals;
    int64_t budget = BudgetFor(key.device);
    lock.unlock();
    return OutOfMemory(key.ToString() + ": needs about " + hw::FormatBytes(estimated_bytes) + " but " + key.device +
                       "'s budget is " + hw::FormatBytes(budget) + " and models in use hold the rest");
  }
  entry = std::make_shared<Entry>();
  entry->key = key;
  entry->bytes = estimated_bytes;
  entry->users = 1;
  charged_[key.device] += estimated_bytes;
  entries_.emplace(key, entry);

  lock.unlock();
  graveyard.clear();
  LoadContext ctx{options_.low_memory};
  Result<LoadedModel> loaded = loader(ctx);
  lock.lock();

  auto it = entries_.find(key);  // still ours: nothing erases an entry that is loading
  if (!loaded.ok() || !loaded->object) {
    ++stats_.load_failures;
    EraseLocked(it, graveyard);
    changed_.notify_all();
    lock.unlock();
    return loaded.ok() ? Internal(key.ToString() + ": loader returned no model") : loaded.status();
  }
  int64_t actual = std::max<int64_t>(0, loaded->bytes);
  // Replace the reservation with the real size, making more room if the estimate was low.
  charged_[key.device] -= entry->bytes;
  entry->bytes = 0;
  if (!MakeRoomLocked(key.device, actual, entry.get(), graveyard)) {
    ++stats_.refusals;
    int64_t budget = BudgetFor(key.device);
    EraseLocked(it, graveyard);
    changed_.notify_all();
    lock.unlock();
    return OutOfMemory(key.ToString() + ": loaded size " + hw::FormatBytes(actual) + " does not fit " + key.device +
                       "'s budget of " + hw::FormatBytes(budget));
  }
  entry->bytes = actual;
  charged_[key.device] += actual;
  entry->object = std::move(loaded->object);
  entry->loading = false;
  entry->last_used = Now();
  ++stats_.loads;
  ++stats_.models;
  int64_t& in_use = stats_.bytes_in_use[key.device];
  in_use += actual;
  stats_.peak_bytes[key.device] = std::max(stats_.peak_bytes[key.device], in_use);
  changed_.notify_all();
  return Lease(this, entry, entry->object);
}

void ResourcePool::Release(const std::shared_ptr<Entry>& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  --entry->users;
  entry->last_used = Now();
}

int ResourcePool::EvictExpired() {
  if (options_.idle_timeout.count() <= 0) return 0;
  std::vector<std::shared_ptr<void>> graveyard;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Now();
  int n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& e = *it->second;
    auto next = std::next(it);
    if (!e.loading && e.users == 0 && now - e.last_used >= options_.idle_timeout) {
      EraseLocked(it, graveyard);
      ++stats_.expirations;
      ++stats_.evictions;
      ++n;
    }
    it = next;
  }
  return n;  // graveyard (declared before the lock) is destroyed after the lock is released
}

int ResourcePool::EvictAllIdle() {
  std::vector<std::shared_ptr<void>> graveyard;
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (!it->second->loading && it->second->users == 0) {
      EraseLocked(it, graveyard);
      ++stats_.evictions;
      ++n;
    }
    it = next;
  }
  return n;
}

void ResourcePool::StartReaper(std::chrono::milliseconds interval) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reaper_.joinable() || stopping_) return;
  reaper_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      reaper_wake_.wait_for(lock, interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      EvictExpired();
      lock.lock();
    }
  });
}

PoolStats ResourcePool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace accel
