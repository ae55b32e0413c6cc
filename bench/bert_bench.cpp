// Times a BERT-base-shaped encoder (synthetic weights, generated in-process) at the given batch
// and sequence length. Prints one JSON line per point: {"engine","threads","batch","seq",
// "median_ms","min_ms","iterations"}. Peers are run beside it by bench/run_bert_bench.sh.
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "models/synthetic/synthetic.h"
#include "runtime/loaded_model.h"

using namespace accel;

int main(int argc, char** argv) {
  int batch = 1, seq = 128, iters = 20, warmup = 3;
  std::string model = "bert-base";
  std::string dtype = "f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--batch") batch = std::atoi(argv[i + 1]);
    else if (a == "--seq") seq = std::atoi(argv[i + 1]);
    else if (a == "--iterations") iters = std::atoi(argv[i + 1]);
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--dtype") dtype = argv[i + 1];
    else if (a == "--threads") ThreadPool::SetDefaultThreads(std::atoi(argv[i + 1]));
  }
  auto parts = synthetic::Make(model);
  if (!parts.ok()) { std::fprintf(stderr, "%s\n", parts.status().message().c_str()); return 2; }
  if (dtype != "f32" && dtype != "bf16") { std::fprintf(stderr, "--dtype must be f32 or bf16\n"); return 2; }
  LoadOptions options{"cpu", dtype == "bf16" ? DType::kBF16 : DType::kF32};
  auto loaded = LoadedModel::FromParts(parts->config, parts->weights, options);
  if (!loaded.ok()) { std::fprintf(stderr, "%s\n", loaded.status().message().c_str()); return 2; }
  Tensor ids = Tensor::Zeros(DType::kI64, {batch, seq}).value();
  Tensor mask = Tensor::Zeros(DType::kI64, {batch, seq}).value();
  for (int i = 0; i < batch * seq; ++i) {
    ids.data<int64_t>()[i] = 1000 + (i * 7919) % 20000;
    mask.data<int64_t>()[i] = 1;
  }
  TensorMap inputs{{"input_ids", ids}, {"attention_mask", mask}};
  std::vector<double> ms;
  for (int i = 0; i < warmup + iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = (*loaded)->Run(inputs);
    auto t1 = std::chrono::steady_clock::now();
    if (!out.ok()) { std::fprintf(stderr, "%s\n", out.status().message().c_str()); return 2; }
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  // Accuracy cost of reduced precision: the same inputs through the f32 model.
  double max_abs = 0, max_ref = 0;
  if (dtype != "f32") {
    auto reference = LoadedModel::FromParts(parts->config, parts->weights, LoadOptions{"cpu", DType::kF32});
    auto got = (*loaded)->Run(inputs), want = (*reference)->Run(inputs);
    if (!got.ok() || !want.ok()) return 2;
    const Tensor &g = got->at("last_hidden_state"), &w = want->at("last_hidden_state");
    for (size_t i = 0; i < g.numel(); ++i) {
      max_abs = std::max<double>(max_abs, std::fabs(g.data<float>()[i] - w.data<float>()[i]));
      max_ref = std::max<double>(max_ref, std::fabs(w.data<float>()[i]));
    }
  }
  std::printf("{\"engine\":\"%s\",\"threads\":%d,\"batch\":%d,\"seq\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,\"iterations\":%d,"
              "\"max_abs_diff_vs_f32\":%.3g,\"max_abs_f32\":%.3g}\n",
              dtype == "f32" ? "accel" : ("accel-" + dtype).c_str(), ThreadPool::Global().num_threads(), batch, seq,
              ms[ms.size() / 2], ms[0], iters, max_abs, max_ref);
  return 0;
}
