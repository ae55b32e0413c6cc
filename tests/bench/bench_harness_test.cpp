// The harness against a test-only factory whose workloads do real work, crash, hang, fail
// or allocate without bound: every point is isolated, recorded, and the run goes on.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <map>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "bench/harness.h"
#include "bench/latency_stats.h"
#include "bench/workload_registry.h"
#include "test_util.h"

namespace accel::bench {
namespace {

// Sums a vector `batch` times per run; device "alt" gets an output off by `alt_error`.
class SumWorkload : public Workload {
 public:
  SumWorkload(int batch, float offset) : batch_(batch), offset_(offset), data_(1 << 16, 0.5f) {}
  Status RunOnce() override {
    double s = 0;
    for (int b = 0; b < batch_; ++b)
      for (float x : data_) s += x;
    out_ = float(s) + offset_;
    return Status::Ok();
  }
  double ItemsPerRun() const override { return batch_; }
  std::vector<float> OutputSample() const override { return {out_}; }
  Result<db::ValidationRecord> Validate() override {
    bool ok = std::fabs(out_ - 0.5f * data_.size() * batch_) < 1e-3f;
    return db::ValidationRecord{"reference", ok ? "passed" : "failed", 0.0, "closed form", ""};
  }

 private:
  int batch_;
  float offset_, out_ = 0;
  std::vector<float> data_;
};

class FaultyWorkload : public Workload {
 public:
  explicit FaultyWorkload(std::string kind) : kind_(std::move(kind)) {}
  Status RunOnce() override {
    if (kind_ == "crash") std::abort();
    if (kind_ == "segv") std::raise(SIGSEGV);
    if (kind_ == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
    if (kind_ == "hog")
      for (;;) {
        char* p = static_cast<char*>(std::malloc(16 << 20));
        std::memset(p, 7, 16 << 20);
        held_.push_back(p);
      }
    return Status::Ok();
  }
  double ItemsPerRun() const override { return 1; }

 private:
  std::string kind_;
  std::vector<char*> held_;
};

class TestFactory : public WorkloadFactory {
 public:
  float alt_error = 0;
  std::vector<BenchPoint> DefaultPoints(const std::string& suite) const override {
    std::vector<BenchPoint> p = {{"sum", "cpu", "f32", 1, 16}, {"sum", "alt", "f32", 1, 16}};
    if (suite == "full") {
      for (const char* f : {"crash", "segv", "hang", "hog"}) p.push_back({f, "cpu", "f32", 1, 16});
    }
    return p;
  }
  Result<db::ModelRecord> DescribeModel(const std::string& m) const override {
    return db::ModelRecord{m, "testfamily", "sum", "test", false, 0};
  }
  Result<db::DeviceRecord> DescribeDevice(const std::string& d) const override {
    return db::DeviceRecord{d, "cpu", "test " + d};
  }
  Result<std::unique_ptr<Workload>> Create(const BenchPoint& p) override {
    if (p.model == "sum") return std::unique_ptr<Workload>(new SumWorkload(p.batch, p.device == "alt" ? alt_error : 0));
    return std::unique_ptr<Workload>(new FaultyWorkload(p.model));
  }
};

class HarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("harness");
    auto s = db::BenchStore::Open(dir_ + "/bench.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    opts_.measure.iterations = 5;
    opts_.measure.time_budget_s = 0.5;
    opts_.measure.warmup = 1;
    opts_.isolation.timeout_s = 20;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<db::ResultRecord> Run(TestFactory& f) {
    std::FILE* sink = std::tmpfile();
    Progress progress(sink, false);
    auto summary = RunBenchmark(f, opts_, *store_, progress);
    std::fclose(sink);
    EXPECT_TRUE(summary.ok()) << summary.status().message();
    auto runs = store_->ExportRuns();
    EXPECT_TRUE(runs.ok());
    return runs->back().results;
  }

  std::string dir_;
  std::unique_ptr<db::BenchStore> store_;
  BenchOptions opts_;
};

TEST(LatencyStats, PercentilesInterpolate) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  LatencyStats s = Summarize(v);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(s.p50, 50.5);
  EXPECT_NEAR(s.p90, 90.1, 1e-9);
  EXPECT_NEAR(s.p99, 99.01, 1e-9);
  EXPECT_DOUBLE_EQ(Percentile({3, 1, 2}, 50), 2);
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(Matrix, FiltersAndOverrides) {
  TestFactory f;
  BenchOptions o;
  o.devices = {"cpu"};
  o.batch_sizes = {1, 4};
  o.seq_lens = {32};
  auto points = ExpandMatrix(f, o);
  ASSERT_TRUE(points.ok()) << points.status().message();
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ((*points)[1].Label(), "sum cpu f32 b4 s32");

  o = {};
  o.models = {"crash"};  // only in the full suite: naming it is enough
  points = ExpandMatrix(f, o);
  ASSERT_TRUE(points.ok()) << points.status().message();
  EXPECT_EQ(points->size(), 1u);

  o = {};
  o.devices = {"tpu"};
  auto bad = ExpandMatrix(f, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown device \"tpu\" (available: alt, cpu)"), std::string::npos)
      << bad.status().message();
  o = {};
  o.suite = "huge";
  EXPECT_FALSE(ExpandMatrix(f, o).ok());
}

TEST_F(HarnessTest, MeasuresEveryScenarioAndChecksDevicesAgree) {
  TestFactory f;
  opts_.measure.scenarios = {kSingleStream, kOffline, kServer};
  auto results = Run(f);
  ASSERT_EQ(results.size(), 6u);  // 2 points x 3 scenarios
  for (const auto& r : results) {
    EXPECT_EQ(r.status, db::kStatusOk) << r.error;
    EXPECT_GE(r.iterations, 1);
    EXPECT_LE(r.iterations, 5);
    ASSERT_TRUE(r.latency_p50_ms && r.latency_p99_ms && r.throughput && r.load_ms && r.first_ms);
    EXPECT_LE(*r.latency_min_ms, *r.latency_p50_ms);
    EXPECT_LE(*r.latency_p50_ms, *r.latency_p99_ms);
    EXPECT_GT(*r.throughput, 0);
    EXPECT_GT(r.peak_rss_bytes.value_or(0), 0);
    if (r.scenario == kServer) { EXPECT_TRUE(r.target_qps.has_value()); }
  }
  // The alt device's results carry a passed cross-device validation against cpu.
  int agreements = 0;
  for (const auto& r : results)
    for (const auto& v : r.validations)
      if (v.kind == "cross-device") {
        EXPECT_EQ(r.device.name, "alt");
        EXPECT_EQ(v.status, "passed");
        ++agreements;
      }
  EXPECT_EQ(agreements, 3);
}

TEST_F(HarnessTest, DisagreeingDeviceFailsCrossDeviceValidation) {
  TestFactory f;
  f.alt_error = 1000.0f;  // beyond 1e-3 + 1e-2 * 32768
  opts_.measure.scenarios = {kSingleStream};
  auto results = Run(f);
  ASSERT_EQ(results.size(), 2u);
  bool found = false;
  for (const auto& v : results[1].validations)
    if (v.kind == "cross-device") {
      EXPECT_EQ(v.status, "failed");
      EXPECT_NEAR(*v.max_abs_diff, 1000.0, 1e-2);
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST_F(HarnessTest, CrashesHangsAndMemoryHogsAreIsolated) {
  TestFactory f;
  opts_.suite = "full";
  opts_.devices = {"cpu"};
  opts_.measure.scenarios = {kSingleStream};
  opts_.isolation.timeout_s = 1.5;
  opts_.isolation.memory_limit_bytes = int64_t{256} << 20;
  auto results = Run(f);
  ASSERT_EQ(results.size(), 5u);
  std::map<std::string, const db::ResultRecord*> by_model;
  for (const auto& r : results) by_model[r.model.name] = &r;
  EXPECT_EQ(by_model["sum"]->status, db::kStatusOk);
  EXPECT_EQ(by_model["crash"]->status, db::kStatusCrashed);
  EXPECT_NE(by_model["crash"]->error.find("SIGABRT"), std::string::npos) << by_model["crash"]->error;
  EXPECT_EQ(by_model["segv"]->status, db::kStatusCrashed);
  EXPECT_EQ(by_model["hang"]->status, db::kStatusTimeout);
  EXPECT_EQ(by_model["hog"]->status, db::kStatusOom);
  EXPECT_GT(by_model["hog"]->peak_rss_bytes.value_or(0), int64_t{256} << 20);
}

TEST(Registry, EngineFactoriesPlugInByName) {
  struct Named : TestFactory {};
  RegisterWorkloadFactory("test-engine", 50, [] { return std::make_unique<Named>(); });
  auto names = WorkloadFactoryNames();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "test-engine");  // the highest priority is the default
  EXPECT_TRUE(MakeWorkloadFactory("").ok());
  EXPECT_TRUE(MakeWorkloadFactory("selftest").ok());
  auto missing = MakeWorkloadFactory("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("known: test-engine, selftest"), std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace accel::bench
