// Times a BERT-base-shaped encoder (synthetic weights, generated in-process) at the given batch
// and sequence length. Prints one JSON line per point: {"engine","threads","batch","seq",
// "median_ms","min_ms","iterations"}. Peers are run beside it by bench/run_bert_bench.sh.
#include <algorithm>
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
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--batch") batch = std::atoi(argv[i + 1]);
    else if (a == "--seq") seq = std::atoi(argv[i + 1]);
    else if (a == "--iterations") iters = std::atoi(argv[i + 1]);
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--threads") ThreadPool::SetDefaultThreads(std::atoi(argv[i + 1]));
  }
  auto parts = synthetic::Make(model);
  if (!parts.ok()) { std::fprintf(stderr, "%s\n", parts.status().message().c_str()); return 2; }
  auto loaded = LoadedModel::FromParts(std::move(parts->config), std::move(parts->weights), LoadOptions{"cpu"});
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
  std::printf("{\"engine\":\"accel\",\"threads\":%d,\"batch\":%d,\"seq\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,\"iterations\":%d}\n",
              ThreadPool::Global().num_threads(), batch, seq, ms[ms.size() / 2], ms[0], iters);
  return 0;
}
