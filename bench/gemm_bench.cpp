// Packed-GEMM throughput at given shapes: GFLOP/s of cpu::GemmPacked (the kernel every Linear
// runs), by wall time and by this process's CPU time (the latter stays meaningful on a busy
// machine at one thread). Prints one JSON line per shape.
//   gemm_bench [--threads N] [--dtype f32|bf16] [--iterations N] [--cold] [MxNxK ...]
// --cold cycles through enough distinct weights (>= 512 MiB) that each GEMM reads its weight
// from DRAM, as a model's layers do; without it the weight stays in cache.
// Default shapes: BERT-base / ViT-B/16 Linear layers at 128 tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "backends/cpu/gemm.h"
#include "core/thread_pool.h"

using namespace accel;

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 20;
  bool cold = false;
  DType compute = DType::kF32;
  std::vector<std::string> shapes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) ThreadPool::SetDefaultThreads(std::atoi(argv[++i]));
    else if (a == "--iterations" && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (a == "--cold") cold = true;
    else if (a == "--dtype" && i + 1 < argc) compute = std::string(argv[++i]) == "bf16" ? DType::kBF16 : DType::kF32;
    else shapes.push_back(a);
  }
  if (shapes.empty()) shapes = {"128x2304x768", "128x768x768", "128x3072x768", "128x768x3072"};
  ThreadPool& pool = ThreadPool::Global();
  for (const std::string& s : shapes) {
    long m = 0, n = 0, k = 0;
    if (std::sscanf(s.c_str(), "%ldx%ldx%ld", &m, &n, &k) != 3 || m <= 0 || n <= 0 || k <= 0) {
      std::fprintf(stderr, "shape must be MxNxK, got %s\n", s.c_str());
      return 2;
    }
    Tensor w = Tensor::Zeros(DType::kF32, {n, k}).value();
    for (size_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
    const size_t copies = cold ? std::max<size_t>(2, (size_t{512} << 20) / (w.numel() * sizeof(float))) : 1;
    std::vector<std::shared_ptr<cpu::PackedGemmWeight>> weights;
    for (size_t i = 0; i < copies; ++i) {
      auto packed = cpu::PackWeight(w, compute);
      if (!packed.ok()) { std::fprintf(stderr, "%s\n", packed.status().message().c_str()); return 2; }
      weights.push_back(*packed);
    }
    std::vector<float> a(m * k, 0.25f), c(m * n), bias(n, 0.1f);
    std::vector<double> wall, cpu;
    for (int i = 0; i < 3 + iters; ++i) {
      const double c0 = CpuSeconds();
      const auto t0 = std::chrono::steady_clock::now();
      cpu::GemmPacked(a.data(), m, k, *weights[i % copies], c.data(), n, bias.data(), Activation::kNone, pool);
      const auto t1 = std::chrono::steady_clock::now();
      if (i < 3) continue;
      wall.push_back(std::chrono::duration<double>(t1 - t0).count());
      cpu.push_back(CpuSeconds() - c0);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    const double flop = 2.0 * m * n * k;
    // CPU time says how fast the kernel runs when it has the core; only meaningful at one thread.
    char cpu_rate[64] = "";
    if (pool.num_threads() == 1) std::snprintf(cpu_rate, sizeof cpu_rate, ",\"gflops_cpu\":%.1f", flop / cpu[cpu.size() / 2] / 1e9);
    std::printf("{\"shape\":\"%s\",\"weights\":\"%s\",\"kernel\":\"%s\",\"threads\":%d,\"gflops\":%.1f%s}\n", s.c_str(),
                cold ? "cold" : "cached", weights[0]->kernel->name, pool.num_threads(), flop / wall[wall.size() / 2] / 1e9,
                cpu_rate);
  }
  return 0;
}
