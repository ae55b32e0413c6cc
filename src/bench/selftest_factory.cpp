#include "bench/selftest_factory.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/cpu_features.h"

namespace accel::bench {
namespace {

// A deterministic fill so every process (and every device) computes the same product.
float Fill(uint64_t i) {
  uint64_t x = i * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<float>(x % 2001) / 1000.0f - 1.0f;
}

class MatmulWorkload final : public Workload {
 public:
  MatmulWorkload(int n, int batch) : n_(n), batch_(batch), a_(size_t(n) * n), b_(size_t(n) * n), c_(size_t(n) * n) {
    for (size_t i = 0; i < a_.size(); ++i) {
      a_[i] = Fill(i);
      b_[i] = Fill(i + a_.size());
    }
  }

  Status RunOnce() override {
    for (int rep = 0; rep < batch_; ++rep) {
      // i-k-j order: the inner loop streams rows, which the compiler vectorises.
      std::fill(c_.begin(), c_.end(), 0.0f);
      for (int i = 0; i < n_; ++i)
        for (int k = 0; k < n_; ++k) {
          float aik = a_[size_t(i) * n_ + k];
          const float* brow = &b_[size_t(k) * n_];
          float* crow = &c_[size_t(i) * n_];
          for (int j = 0; j < n_; ++j) crow[j] += aik * brow[j];
        }
    }
    return Status::Ok();
  }
  double ItemsPerRun() const override { return batch_; }
  std::string ThroughputUnit() const override { return "matmuls/s"; }

  Result<db::ValidationRecord> Validate() override {
    // Recompute a sample of entries in double precision.
    double max_diff = 0, max_ref = 0;
    for (int s = 0; s < 16; ++s) {
      int i = (s * 7919) % n_, j = (s * 104729) % n_;
      double ref = 0;
      for (int k = 0; k < n_; ++k) ref += double(a_[size_t(i) * n_ + k]) * double(b_[size_t(k) * n_ + j]);
      max_diff = std::max(max_diff, std::fabs(ref - c_[size_t(i) * n_ + j]));
      max_ref = std::max(max_ref, std::fabs(ref));
    }
    double tol = 1e-5 * n_ * std::max(1.0, max_ref);
    return db::ValidationRecord{"reference", max_diff <= tol ? "passed" : "failed", max_diff,
                                "float64 recomputation of 16 entries", "tolerance " + std::to_string(tol)};
  }

  std::vector<float> OutputSample() const override {
    return std::vector<float>(c_.begin(), c_.begin() + std::min<size_t>(16, c_.size()));
  }

 private:
  int n_, batch_;
  std::vector<float> a_, b_, c_;
};

class FaultWorkload final : public Workload {
 public:
  explicit FaultWorkload(std::string kind) : kind_(std::move(kind)) {}
  Status RunOnce() override {
    if (kind_ == "fault-crash") std::abort();
    if (kind_ == "fault-error") return Internal("fault-error: this workload always fails");
    if (kind_ == "fault-hang")
      for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (kind_ == "fault-oom") {
      // Touch every page so the memory is resident, not just reserved.
      for (;;) {
        constexpr size_t kChunk = 32u << 20;
        char* p = static_cast<char*>(std::malloc(kChunk));
        if (!p) return OutOfMemory("fault-oom: malloc failed");
        std::memset(p, 1, kChunk);
        hoard_.push_back(p);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return Status::Ok();
  }
  double ItemsPerRun() const override { return 1; }

 private:
  std::string kind_;
  std::vector<char*> hoard_;
};

bool IsFault(const std::string& model) { return model.rfind("fault-", 0) == 0; }

// matmul-N -> N, or 0 when the name is not one.
int MatmulSize(const std::string& model) {
  if (model.rfind("matmul-", 0) != 0) return 0;
  int n = std::atoi(model.c_str() + 7);
  return (n >= 8 && n <= 2048 && model == "matmul-" + std::to_string(n)) ? n : 0;
}

class SelftestFactory final : public WorkloadFactory {
 public:
  std::vector<BenchPoint> DefaultPoints(const std::string& suite) const override {
    std::vector<int> sizes = suite == "full" ? std::vector<int>{64, 128, 256, 512} : std::vector<int>{64, 128};
    std::vector<BenchPoint> points;
    for (int n : sizes)
      for (int batch : {1, 8}) points.push_back({"matmul-" + std::to_string(n), "cpu", "f32", batch, n});
    return points;
  }

  Result<db::ModelRecord> DescribeModel(const std::string& model) const override {
    static const char* kFaults[] = {"fault-crash", "fault-hang", "fault-oom", "fault-error", "fault-load"};
    if (IsFault(model)) {
      for (const char* f : kFaults)
        if (model == f) return db::ModelRecord{model, "selftest-fault", "fault-injection", "built-in", true, 0};
      return NotFound("unknown selftest model \"" + model + "\"");
    }
    int n = MatmulSize(model);
    if (!n) return NotFound("unknown selftest model \"" + model + "\" (selftest has matmul-N and fault-* models)");
    return db::ModelRecord{model, "selftest", "gemm", "built-in", true, int64_t{2} * n * n};
  }

  Result<db::DeviceRecord> DescribeDevice(const std::string& device) const override {
    if (device != "cpu") return NotFound("selftest runs on device cpu only, not \"" + device + "\"");
    return db::DeviceRecord{"cpu", "cpu", GetCpuFeatures().brand};
  }

  Result<std::unique_ptr<Workload>> Create(const BenchPoint& point) override {
    ACCEL_RETURN_IF_ERROR(DescribeDevice(point.device).status());
    if (point.dtype != "f32") return Unsupported("selftest workloads are f32 only, not " + point.dtype);
    if (point.model == "fault-load") return Corrupt("fault-load: this model never loads");
    if (IsFault(point.model)) {
      ACCEL_RETURN_IF_ERROR(DescribeModel(point.model).status());
      return std::unique_ptr<Workload>(new FaultWorkload(point.model));
    }
    int n = MatmulSize(point.model);
    if (!n) return NotFound("unknown selftest model \"" + point.model + "\"");
    return std::unique_ptr<Workload>(new MatmulWorkload(n, point.batch));
  }
};

}  // namespace

std::unique_ptr<WorkloadFactory> MakeSelftestFactory() { return std::make_unique<SelftestFactory>(); }

}  // namespace accel::bench
