// The model pool under many threads: one load per key however many ask at once, the budget
// never exceeded, LRU and idle-timeout eviction, failures that do not poison the key. CI runs
// these under ThreadSanitizer (`make tsan`).
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "placement/memory_budget.h"
#include "placement/resource_pool.h"

namespace accel {
namespace {

using namespace std::chrono_literals;

struct FakeModel {
  std::string name;
  std::atomic<int>* alive;
  FakeModel(std::string n, std::atomic<int>* a) : name(std::move(n)), alive(a) { ++*alive; }
  ~FakeModel() { --*alive; }
};

ModelLoader Loader(const std::string& name, int64_t bytes, std::atomic<int>* loads, std::atomic<int>* alive,
                   std::chrono::milliseconds delay = 0ms) {
  return [=](const LoadContext&) -> Result<LoadedModel> {
    ++*loads;
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    return LoadedModel{std::make_shared<FakeModel>(name, alive), bytes};
  };
}

PoolOptions Budget(int64_t bytes) {
  PoolOptions o;
  o.default_budget_bytes = bytes;
  return o;
}

TEST(ResourcePool, ConcurrentUsersOfOneKeyShareOneLoad) {
  ResourcePool pool(Budget(1000));
  std::atomic<int> loads{0}, alive{0};
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto lease = pool.Acquire({"bert", "cpu", "f32"}, Loader("bert", 100, &loads, &alive, 2ms));
        if (lease.ok() && lease->As<FakeModel>()->name == "bert") ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16 * 50);
  EXPECT_EQ(loads.load(), 1);
  PoolStats s = pool.Stats();
  EXPECT_EQ(s.loads, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.hits, 16 * 50 - 1);
  EXPECT_EQ(s.bytes_in_use["cpu"], 100);
}

TEST(ResourcePool, ManyKeysUnderATightBudgetNeverExceedIt) {
  const int64_t budget = 350;  // three 100-byte models fit, a fourth needs an eviction
  ResourcePool pool(Budget(budget));
  std::atomic<int> loads{0}, alive{0}, refused{0}, served{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 200; ++i) {
        std::string name = "m" + std::to_string(rng() % 6);
        auto lease = pool.Acquire({name, "cpu", "f32"}, Loader(name, 100, &loads, &alive), 100);
        if (!lease.ok()) {
          EXPECT_EQ(lease.status().code(), StatusCode::kOutOfMemory);
          ++refused;
          continue;
        }
        EXPECT_EQ(lease->As<FakeModel>()->name, name);
        ++served;
      }
    });
  for (auto& t : threads) t.join();
  PoolStats s = pool.Stats();
  EXPECT_LE(s.peak_bytes["cpu"], budget);
  EXPECT_LE(s.bytes_in_use["cpu"], budget);
  EXPECT_GT(s.evictions, 0);
  EXPECT_EQ(served + refused, 8 * 200);
  EXPECT_EQ(s.loads, loads.load());
  EXPECT_EQ(alive.load(), s.models);  // evicted models were really destroyed
  EXPECT_LE(alive.load(), 3);
}

TEST(ResourcePool, LeastRecentlyUsedIdleModelIsEvictedFirst) {
  ResourcePool pool(Budget(200));
  std::atomic<int> loads{0}, alive{0};
  { auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 100, &loads, &alive)); }
  { auto b = pool.Acquire({"b", "cpu", "f32"}, Loader("b", 100, &loads, &alive)); }
  { auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 100, &loads, &alive)); }  // a is now newer than b
  { auto c = pool.Acquire({"c", "cpu", "f32"}, Loader("c", 100, &loads, &alive)); }  // evicts b
  EXPECT_EQ(loads.load(), 3);
  { auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 100, &loads, &alive)); }  // still cached
  EXPECT_EQ(loads.load(), 3);
  { auto b = pool.Acquire({"b", "cpu", "f32"}, Loader("b", 100, &loads, &alive)); }  // reloaded
  EXPECT_EQ(loads.load(), 4);
  EXPECT_EQ(pool.Stats().evictions, 2);
}

TEST(ResourcePool, ModelsInUseAreNeverEvictedAndRefusalIsClear) {
  ResourcePool pool(Budget(150));
  std::atomic<int> loads{0}, alive{0};
  auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 100, &loads, &alive), 100);
  ASSERT_TRUE(a.ok());
  auto b = pool.Acquire({"b", "cpu", "f32"}, Loader("b", 100, &loads, &alive), 100);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kOutOfMemory);
  EXPECT_NE(b.status().message().find("b on cpu as f32"), std::string::npos) << b.status().message();
  EXPECT_EQ(loads.load(), 1);  // refused before loading
  auto huge = pool.Acquire({"huge", "cpu", "f32"}, Loader("huge", 10, &loads, &alive), 1000);
  EXPECT_FALSE(huge.ok());
  // An estimate that was too low: the real size is checked after the load too.
  auto liar = pool.Acquire({"liar", "cpu", "f32"}, Loader("liar", 400, &loads, &alive), 10);
  EXPECT_FALSE(liar.ok());
  EXPECT_EQ(alive.load(), 1);
}

TEST(ResourcePool, PerDeviceBudgetsAreSeparate) {
  PoolOptions o = Budget(100);
  o.device_budgets["cuda:0"] = 1000;
  ResourcePool pool(o);
  std::atomic<int> loads{0}, alive{0};
  auto gpu = pool.Acquire({"big", "cuda:0", "f16"}, Loader("big", 800, &loads, &alive));
  EXPECT_TRUE(gpu.ok());
  auto cpu = pool.Acquire({"big", "cpu", "f32"}, Loader("big", 800, &loads, &alive));
  EXPECT_FALSE(cpu.ok());
  PoolStats s = pool.Stats();
  EXPECT_EQ(s.bytes_in_use["cuda:0"], 800);
  EXPECT_EQ(s.bytes_in_use["cpu"], 0);
}

TEST(ResourcePool, FailedLoadIsReportedToEveryWaiterAndRetried) {
  ResourcePool pool(Budget(1000));
  std::atomic<int> attempts{0};
  std::atomic<int> alive{0};
  ModelLoader flaky = [&](const LoadContext&) -> Result<LoadedModel> {
    std::this_thread::sleep_for(1ms);
    if (attempts.fetch_add(1) < 3) return Corrupt("model.safetensors: truncated");
    return LoadedModel{std::make_shared<FakeModel>("x", &alive), 10};
  };
  std::vector<std::thread> threads;
  std::atomic<int> failures{0}, successes{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto lease = pool.Acquire({"x", "cpu", "f32"}, flaky);
        if (lease.ok()) ++successes;
        else {
          EXPECT_NE(lease.status().message().find("truncated"), std::string::npos);
          ++failures;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 3);
  EXPECT_EQ(successes.load(), 8 * 5 - 3);
  EXPECT_EQ(pool.Stats().load_failures, 3);
  EXPECT_EQ(pool.Stats().loads, 1);
}

TEST(ResourcePool, IdleTimeoutWithInjectedClock) {
  std::atomic<int64_t> now_ms{0};
  PoolOptions o = Budget(1000);
  o.idle_timeout = 1000ms;
  o.clock = [&] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms.load())); };
  ResourcePool pool(o);
  std::atomic<int> loads{0}, alive{0};
  { auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 10, &loads, &alive)); }
  auto held = pool.Acquire({"b", "cpu", "f32"}, Loader("b", 10, &loads, &alive));
  now_ms = 500;
  EXPECT_EQ(pool.EvictExpired(), 0);
  now_ms = 1500;
  EXPECT_EQ(pool.EvictExpired(), 1);  // a expired; b is in use
  EXPECT_EQ(alive.load(), 1);
  EXPECT_EQ(pool.Stats().expirations, 1);
}

TEST(ResourcePool, ReaperThreadExpiresIdleModels) {
  PoolOptions o = Budget(1000);
  o.idle_timeout = 5ms;
  ResourcePool pool(o);
  pool.StartReaper(2ms);
  std::atomic<int> loads{0}, alive{0};
  { auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 10, &loads, &alive)); }
  for (int i = 0; i < 500 && alive.load() > 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(alive.load(), 0);
}

TEST(ResourcePool, LowMemoryModeReachesTheLoader) {
  PoolOptions o = Budget(1000);
  o.low_memory = true;
  ResourcePool pool(o);
  std::atomic<int> alive{0};
  bool seen = false;
  auto lease = pool.Acquire({"a", "cpu", "f32"}, [&](const LoadContext& ctx) -> Result<LoadedModel> {
    seen = ctx.low_memory;
    return LoadedModel{std::make_shared<FakeModel>("a", &alive), 1};
  });
  EXPECT_TRUE(seen);
  EXPECT_TRUE(pool.low_memory());
}

TEST(ResourcePool, LeaseMovesAndEvictAllIdle) {
  ResourcePool pool(Budget(1000));
  std::atomic<int> loads{0}, alive{0};
  auto a = pool.Acquire({"a", "cpu", "f32"}, Loader("a", 10, &loads, &alive));
  ASSERT_TRUE(a.ok());
  ResourcePool::Lease moved = std::move(*a);
  EXPECT_TRUE(moved);
  EXPECT_EQ(moved.key().model, "a");
  EXPECT_EQ(pool.EvictAllIdle(), 0);
  moved = ResourcePool::Lease();
  EXPECT_EQ(pool.EvictAllIdle(), 1);
  EXPECT_EQ(alive.load(), 0);
}

TEST(MemoryBudget, ParsingAndDefaults) {
  EXPECT_EQ(ParseByteSize("8G").value(), 8LL << 30);
  EXPECT_EQ(ParseByteSize("512MiB").value(), 512LL << 20);
  EXPECT_EQ(ParseByteSize("1.5g").value(), 3LL << 29);
  EXPECT_EQ(ParseByteSize("4096").value(), 4096);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("-1G").ok());
  EXPECT_FALSE(ParseByteSize("5Q").ok());
  EXPECT_FALSE(ParseByteSize("0").ok());
  hw::MemoryInfo m{16LL << 30, 10LL << 30};
  unsetenv("ACCEL_MEMORY_LIMIT");
  EXPECT_EQ(ResolveMemoryLimit("", m).value(), static_cast<int64_t>((10LL << 30) * 0.9));
  EXPECT_EQ(ResolveMemoryLimit("2G", m).value(), 2LL << 30);
  setenv("ACCEL_MEMORY_LIMIT", "3G", 1);
  EXPECT_EQ(ResolveMemoryLimit("", m).value(), 3LL << 30);
  setenv("ACCEL_MEMORY_LIMIT", "bogus", 1);
  auto bad = ResolveMemoryLimit("", m);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ACCEL_MEMORY_LIMIT"), std::string::npos);
  unsetenv("ACCEL_MEMORY_LIMIT");
  EXPECT_FALSE(ShouldUseLowMemoryMode(m));
  EXPECT_TRUE(ShouldUseLowMemoryMode({16LL << 30, 1LL << 30}));
  EXPECT_TRUE(ShouldUseLowMemoryMode({64LL << 30, 5LL << 30}));
}

}  // namespace
}  // namespace accel
