// Quantized Linear throughput on one thread, by this process's CPU time (meaningful on a busy
// machine): y[m, n] = x[m, k] W^T for W in each block format, m = 1 (decode: weight GB/s) and
// m = 64 (prefill: GMAC/s). The weights cycle through enough copies (>= 256 MiB) that decode
// reads them from DRAM, as a model's layers do.
//   quant_linear_bench [--n 2048] [--k 2048] [--iterations 20] [dtype ...]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "core/dtype_names.h"
#include "core/thread_pool.h"
#include "formats/quant.h"

using namespace accel;

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

Tensor Random(Shape s, uint32_t seed) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(s)).value();
  for (size_t i = 0; i < t.numel(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    t.data<float>()[i] = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 2048, k = 2048;
  int iterations = 20;
  std::vector<std::string> types;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::stoll(argv[++i]);
    else if (a == "--k" && i + 1 < argc) k = std::stoll(argv[++i]);
    else if (a == "--iterations" && i + 1 < argc) iterations = std::stoi(argv[++i]);
    else types.push_back(a);
  }
  if (types.empty()) types = {"q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q3_k", "q2_k", "iq4_nl", "iq4_xs"};
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  const Tensor wf = Random({n, k}, 1);
  for (const std::string& name : types) {
    const std::optional<DType> parsed = DTypeFromName(name);
    if (!parsed || !Info(*parsed).is_quantized) return std::fprintf(stderr, "unknown block dtype %s\n", name.c_str()), 2;
    const DType t = *parsed;
    const Tensor wq = quant::Quantize(wf, t).value();
    const size_t bytes = wq.nbytes();
    const int copies = static_cast<int>(std::max<size_t>(1, (size_t{256} << 20) / bytes));
    std::vector<PackedLinear> ws;
    // Distinct bytes per copy: K-quant Linear keeps the tensor itself (a view), not a repacked copy.
    for (int c = 0; c < copies; ++c) ws.push_back(cpu.PackLinear(wq.Clone(), DType::kF32).value());
    for (int64_t m : {1, 64}) {
      const Tensor x = Random({m, k}, 2);
      Tensor y = Tensor::Zeros(DType::kF32, {m, n}).value();
      for (int c = 0; c < copies; ++c) (void)cpu.Linear(x, ws[c], nullptr, Activation::kNone, y);
      const int calls = m == 1 ? iterations * copies : iterations;
      const double t0 = CpuSeconds();
      for (int i = 0; i < calls; ++i) (void)cpu.Linear(x, ws[i % copies], nullptr, Activation::kNone, y);
      const double s = (CpuSeconds() - t0) / calls;
      std::printf("{\"dtype\": \"%s\", \"m\": %ld, \"n\": %ld, \"k\": %ld, \"us_per_call\": %.1f, \"weight_gb_s\": %.2f, \"gmac_s\": %.2f}\n",
                  name.c_str(), static_cast<long>(m), static_cast<long>(n), static_cast<long>(k), s * 1e6, bytes / s / 1e9,
                  double(m) * n * k / s / 1e9);
    }
  }
  return 0;
}
