// Memory-bandwidth probe, STREAM-style: sums a large array (2 GiB by default, far beyond any
// cache) on 1 and 2 threads of the engine's thread pool, each thread reading its own contiguous
// share, and prints the best read bandwidth as JSON lines. Decode benchmarks divide the weight
// bytes they stream per token by this number to say how close they are to the machine's limit.
//   membw [--gib N] [--reps N] [--threads-max N]
// Arrays are tried with and without transparent huge pages (the kernel's THP mode "madvise"
// gives them only to buffers that ask).
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <immintrin.h>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

using namespace accel;

namespace {

// Eight independent accumulators so the adds never limit the load rate; the compiler
// vectorises the inner loop (SSE2 in this baseline build).
double SumRange(const float* p, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int a = 0; a < 8; ++a) {
#pragma omp simd
      for (int j = 0; j < 8; ++j) acc[j] += p[i + a * 8 + j];
    }
  }
  for (; i < n; ++i) acc[0] += p[i];
  double s = 0;
  for (float v : acc) s += v;
  return s;
}

// The same with 64-byte loads, as the decode kernels issue them.
__attribute__((target("avx512f"))) double SumRangeAvx512(const float* p, int64_t n) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 128 <= n; i += 128) {
    for (int a = 0; a < 8; ++a) acc[a] = _mm512_add_ps(acc[a], _mm512_load_ps(p + i + 16 * a));
  }
  for (int a = 1; a < 8; ++a) acc[0] = _mm512_add_ps(acc[0], acc[a]);
  double s = _mm512_reduce_add_ps(acc[0]);
  for (; i < n; ++i) s += p[i];
  return s;
}

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  double gib = 2.0;
  int reps = 5, threads_max = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--gib") gib = std::stod(v);
    else if (k == "--reps") reps = std::stoi(v);
    else if (k == "--threads-max") threads_max = std::stoi(v);
    else return std::fprintf(stderr, "unknown option %s\n", k.c_str()), 2;
  }
  const size_t bytes = static_cast<size_t>(gib * (1ull << 30)) / (2u << 20) * (2u << 20);
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float));
  const bool avx512 = GetCpuFeatures().avx512f;
  for (int huge = 0; huge <= 1; ++huge) {
    void* mem = std::aligned_alloc(2u << 20, bytes);
    if (!mem) return std::fprintf(stderr, "cannot allocate %zu bytes\n", bytes), 1;
    if (huge) madvise(mem, bytes, MADV_HUGEPAGE);
    else madvise(mem, bytes, MADV_NOHUGEPAGE);
    float* a = static_cast<float*>(mem);
    for (int threads = 1; threads <= threads_max; ++threads) {
      ThreadPool pool(threads);
      // First touch by the threads that read it, like weights packed on the pool.
      pool.ParallelFor(n, 1 << 20, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) a[i] = static_cast<float>(i & 7);
      });
      double best = 1e30, sink = 0;
      for (int r = 0; r < reps; ++r) {
        std::vector<double> part(static_cast<size_t>(threads), 0.0);
        const auto t0 = std::chrono::steady_clock::now();
        pool.Run(threads, [&](int64_t t) {
          const int64_t b = n / threads * t, e = t + 1 == threads ? n : n / threads * (t + 1);
          part[static_cast<size_t>(t)] = avx512 ? SumRangeAvx512(a + b, e - b) : SumRange(a + b, e - b);
        });
        best = std::min(best, Seconds(t0));
        for (double s : part) sink += s;
      }
      const double gbps = static_cast<double>(bytes) / best / 1e9;
      std::printf("{\"probe\": \"membw\", \"kind\": \"read\", \"threads\": %d, \"huge_pages\": %s, \"bytes\": %zu, "
                  "\"loads\": \"%s\", \"best_s\": %.4f, \"gbps\": %.2f, \"check\": %.0f}\n",
                  threads, huge ? "true" : "false", bytes, avx512 ? "zmm" : "xmm", best, gbps, sink / reps);
      std::fflush(stdout);
    }
    std::free(mem);
  }
  return 0;
}
