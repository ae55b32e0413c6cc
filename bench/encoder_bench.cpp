// Times a synthetic encoder at real shape (weights generated in-process): BERT/RoBERTa-base on
// token ids, ViT-B/16 on 224 x 224 pixel_values, the Whisper-base encoder on 30 s of log-mel
// features. The inputs are the model's own (synthetic::InputNames), so nothing here knows a
// model. Prints one JSON line: {"engine","model","threads","batch","seq","input","median_ms",
// "min_ms","iterations","max_abs_diff_vs_f32","mean_abs_diff_vs_f32","max_abs_f32"}; with
// --dtype bf16 the diffs compare every output with the f32 model's on the same inputs.
// Peers are run beside it by bench/run_bert_bench.sh and bench/run_vision_audio_bench.sh.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "models/synthetic/synthetic.h"
#include "runtime/loaded_model.h"

using namespace accel;

namespace {

struct Diff {
  double max_abs = 0, mean_abs = 0, max_ref = 0;
};

Result<Diff> Compare(const TensorMap& got, const TensorMap& want) {
  Diff d;
  size_t n = 0;
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    if (it == got.end() || it->second.numel() != w.numel()) return Internal("output '" + name + "' differs in shape");
    for (size_t i = 0; i < w.numel(); ++i) {
      const double diff = std::fabs(static_cast<double>(it->second.data<float>()[i]) - w.data<float>()[i]);
      d.max_abs = std::max(d.max_abs, diff);
      d.mean_abs += diff;
      d.max_ref = std::max<double>(d.max_ref, std::fabs(w.data<float>()[i]));
    }
    n += w.numel();
  }
  if (n) d.mean_abs /= static_cast<double>(n);
  return d;
}

// Random weights at sane scales give finite outputs; a NaN means a broken kernel, not a result.
bool AllFinite(const TensorMap& outputs) {
  for (const auto& [name, t] : outputs) {
    if (t.dtype() != DType::kF32) continue;
    for (size_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(t.data<float>()[i])) return false;
    }
  }
  return true;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "encoder_bench: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 1, seq = 128, iters = 20, warmup = 3;
  std::string model = "bert-base", dtype = "f32";
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Fail("option " + a + " needs a value");
    const char* v = argv[i + 1];
    if (a == "--batch") batch = std::atoi(v);
    else if (a == "--seq") seq = std::atoi(v);
    else if (a == "--iterations") iters = std::atoi(v);
    else if (a == "--warmup") warmup = std::atoi(v);
    else if (a == "--model") model = v;
    else if (a == "--dtype") dtype = v;
    else if (a == "--threads") ThreadPool::SetDefaultThreads(std::atoi(v));
    else return Fail("unknown option " + a + " (--model --batch --seq --threads --iterations --warmup --dtype)");
  }
  if (dtype != "f32" && dtype != "bf16") return Fail("--dtype must be f32 or bf16");
  if (batch <= 0 || iters <= 0 || warmup < 0) return Fail("--batch and --iterations must be positive");
  auto info = synthetic::Describe(model);
  if (!info.ok()) return Fail(info.status().message());
  auto parts = synthetic::Make(model);
  if (!parts.ok()) return Fail(parts.status().message());
  auto loaded = LoadedModel::FromParts(parts->config, parts->weights, LoadOptions{"cpu", dtype == "bf16" ? DType::kBF16 : DType::kF32});
  if (!loaded.ok()) return Fail(loaded.status().message());
  if (!info->takes_sequence) seq = 0;
  const auto names = synthetic::InputNames((*loaded)->model());
  auto inputs = synthetic::MakeInputs((*loaded)->config(), names, batch, seq);
  if (!inputs.ok()) return Fail(inputs.status().message());

  std::vector<double> ms;
  TensorMap last;
  for (int i = 0; i < warmup + iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = (*loaded)->Run(*inputs);
    const auto t1 = std::chrono::steady_clock::now();
    if (!out.ok()) return Fail(out.status().message());
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    last = std::move(*out);
  }
  if (!AllFinite(last)) return Fail(model + ": the outputs are not finite");
  std::sort(ms.begin(), ms.end());

  // Accuracy cost of reduced precision: the same inputs through the f32 model.
  Diff diff = Compare(last, last).value();
  if (dtype != "f32") {
    auto reference = LoadedModel::FromParts(parts->config, parts->weights, LoadOptions{"cpu", DType::kF32});
    if (!reference.ok()) return Fail(reference.status().message());
    auto want = (*reference)->Run(*inputs);
    if (!want.ok()) return Fail(want.status().message());
    auto d = Compare(last, *want);
    if (!d.ok()) return Fail(d.status().message());
    diff = *d;
  }
  const Tensor& first = inputs->at(names.front());
  std::string shape;
  for (int d = 0; d < first.rank(); ++d) {
    if (d) shape += 'x';
    shape += std::to_string(first.dim(d));
  }
  std::printf("{\"engine\":\"%s\",\"model\":\"%s\",\"threads\":%d,\"batch\":%d,\"seq\":%d,\"input\":\"%s\",\"median_ms\":%.2f,"
              "\"min_ms\":%.2f,\"iterations\":%d,\"max_abs_diff_vs_f32\":%.3g,\"mean_abs_diff_vs_f32\":%.3g,\"max_abs_f32\":%.3g}\n",
              dtype == "f32" ? "accel" : ("accel-" + dtype).c_str(), model.c_str(), ThreadPool::Global().num_threads(), batch, seq,
              shape.c_str(), ms[ms.size() / 2], ms[0], iters, diff.max_abs, diff.mean_abs, diff.max_ref);
  return 0;
}
