// LLaMA prefill + decode benchmark through the real generation loop, on a synthetic model of a
// named shape (synthetic::MakeLlama: seeded random weights in f32, f16, bf16, q8_0, q4_0 or the K-quants q4_k, q5_k, q6_k) or on a GGUF file; prints one
// JSON line per run: prefill tokens/s, decode ms/token, the weight bytes one decode step reads
// and the bandwidth that implies (compare with bench/membw).
//   decode_bench [--model 125m|1b|tinyllama] [--dtype f32|f16|bf16|q8_0|q4_0|q4_k|q5_k|q6_k] [--threads N]
//                [--prompt 128] [--tokens 64] [--reps 3] [--layers N]
//                [--gguf FILE]          run this GGUF file instead of a synthetic model
//                [--write-gguf FILE]    write the synthetic model as GGUF, with llama.cpp's names
//                                       and a stand-in vocabulary, and exit
//                [--compute f32|bf16]   linear-layer arithmetic (default: bf16 for bf16 weights)
//                [--device cpu|cuda|emulated]
//                [--kv-cache f32|q8_0|q4_0]   KV cache storage (default f32); the JSON line gives
//                                       its bytes ("kv_cache_bytes") for prompt + tokens slots
// bf16 weights run with bf16 compute (LoadOptions::compute) unless --compute f32 asks for the
// exact path; f16 weights (and bf16 under --compute f32) stay 16-bit in memory with f32
// arithmetic; f32 runs f32.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/dtype_names.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "models/synthetic/synthetic.h"
#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"

using namespace accel;

namespace {

struct BenchModel {
  HfConfig config;
  std::map<std::string, Tensor> weights;
};

// Bytes one decode step must read: every weight once except the embedding table, of which it
// reads one row.
size_t BytesPerToken(const std::map<std::string, Tensor>& w) {
  size_t bytes = 0;
  for (const auto& [name, t] : w) {
    bytes += name == "model.embed_tokens.weight" ? t.nbytes() / static_cast<size_t>(t.dim(0)) : t.nbytes();
  }
  return bytes;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

int Fail(const Status& s) {
  std::fprintf(stderr, "decode_bench: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_name = "125m", dtype_name = "q8_0", gguf, write_gguf, compute_name, device = "cpu", kv_cache = "f32";
  int threads = 1, tokens = 64, prompt = 128, reps = 3;
  int64_t layers = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_name = v;
    else if (k == "--dtype") dtype_name = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--tokens") tokens = std::stoi(v);
    else if (k == "--prompt") prompt = std::stoi(v);
    else if (k == "--reps") reps = std::stoi(v);
    else if (k == "--layers") layers = std::stoll(v);
    else if (k == "--gguf") gguf = v;
    else if (k == "--write-gguf") write_gguf = v;
    else if (k == "--compute") compute_name = v;
    else if (k == "--device") device = v;
    else if (k == "--kv-cache") kv_cache = v;
    else return std::fprintf(stderr, "unknown option %s\n", k.c_str()), 2;
  }
  const auto preset = synthetic::LlamaPreset(model_name);
  const auto dtype = DTypeFromName(dtype_name);
  std::optional<DType> compute;
  if (!compute_name.empty()) compute = DTypeFromName(compute_name);
  if ((gguf.empty() && !preset) || !dtype) return std::fprintf(stderr, "unknown model or dtype\n"), 2;
  if (!compute_name.empty() && compute != DType::kF32 && compute != DType::kBF16) {
    return std::fprintf(stderr, "--compute is f32 or bf16\n"), 2;
  }
  auto kv_dtype = decoder::KvCache::ParseDType(kv_cache);
  if (!kv_dtype.ok()) return Fail(kv_dtype.status());
  ThreadPool::SetDefaultThreads(threads);

  BenchModel m;
  std::shared_ptr<GgufFile> file;
  if (!gguf.empty()) {
    auto f = GgufFile::Open(gguf);
    if (!f.ok()) return Fail(f.status());
    file = *f;
    auto parts = GgufToHf(*file);
    if (!parts.ok()) return Fail(parts.status());
    m.config = std::move(parts->config);
    for (const auto& name : parts->weights.Names()) m.weights[name] = parts->weights.Get(name).value();
    const Tensor& up = m.weights["model.layers.0.mlp.up_proj.weight"];
    dtype_name = std::string(Name(up.dtype()));
    std::transform(dtype_name.begin(), dtype_name.end(), dtype_name.begin(), [](char c) { return std::tolower(c); });
  } else {
    synthetic::LlamaShape s = *preset;
    if (layers > 0) s.layers = layers;
    auto synth = synthetic::MakeLlama("llama-" + model_name, s, *dtype);
    if (!synth.ok()) return Fail(synth.status());
    m.config = std::move(synth->config);
    for (const auto& name : synth->weights.Names()) m.weights[name] = synth->weights.Get(name).value();
  }
  if (!write_gguf.empty()) {
    WeightStore store = WeightStore::FromTensors(m.weights, "synthetic");
    GgufExportOptions o;
    o.weight_dtype = *dtype;
    o.placeholder_vocab = true;
    o.name = "synthetic-llama-" + model_name;
    Status s = WriteLlamaGguf(write_gguf, m.config, store, o);
    if (!s.ok()) return Fail(s);
    std::printf("{\"wrote\": \"%s\", \"model\": \"%s\", \"dtype\": \"%s\"}\n", write_gguf.c_str(), model_name.c_str(),
                dtype_name.c_str());
    return 0;
  }
  const size_t bytes_per_token = BytesPerToken(m.weights);
  LoadOptions lo;
  lo.device = device;
  if (m.weights["model.layers.0.mlp.up_proj.weight"].dtype() == DType::kBF16) lo.compute = DType::kBF16;
  if (compute) lo.compute = *compute;
  auto model = LoadedModel::FromParts(m.config, WeightStore::FromTensors(std::move(m.weights), "bench"), lo);
  if (!model.ok()) return Fail(model.status());
  auto* lm = dynamic_cast<CausalLm*>(&(*model)->model());
  generation::Generator gen(*lm, (*model)->backend());
  std::vector<int64_t> ids(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; ++i) ids[i] = 3 + (i * 7919) % 30000;
  {
    generation::GenerationOptions warm_options;
    warm_options.max_new_tokens = 2;
    warm_options.kv_cache_dtype = *kv_dtype;
    auto warm = gen.Run({ids}, warm_options);  // page in and pack everything, size the arena
    if (!warm.ok()) return Fail(warm.status());
  }
  std::vector<double> prefill_ms, decode_ms;
  generation::GenerationOptions o;
  o.max_new_tokens = tokens;
  o.kv_cache_dtype = *kv_dtype;
  size_t kv_bytes = 0;
  for (int r = 0; r < reps; ++r) {
    auto res = gen.Run({ids}, o);
    if (!res.ok()) return Fail(res.status());
    kv_bytes = res->kv_cache_bytes;
    prefill_ms.push_back(res->prefill_ms);
    decode_ms.push_back(res->decode_ms / static_cast<double>(std::max<int64_t>(1, res->generated_tokens - 1)));
  }
  const double pf = Median(prefill_ms), dm = Median(decode_ms);
  std::printf("{\"engine\": \"accel\", \"device\": \"%s\", \"model\": \"%s\", \"dtype\": \"%s\", \"compute\": \"%s\", \"threads\": %d, "
              "\"prompt\": %d, \"tokens\": %d, "
              "\"source\": \"%s\", \"prefill_ms\": %.2f, \"prefill_tok_s\": %.2f, \"decode_ms_per_token\": %.3f, "
              "\"decode_tok_s\": %.2f, \"weight_bytes_per_token\": %zu, \"decode_gbps\": %.2f, \"reps\": %d, "
              "\"kv_cache\": \"%s\", \"kv_cache_bytes\": %zu}\n",
              device.c_str(), model_name.c_str(), dtype_name.c_str(), lo.compute == DType::kBF16 ? "bf16" : "f32", threads, prompt, tokens, gguf.empty() ? "synthetic" : "gguf", pf,
              prompt / (pf / 1000.0), dm, 1000.0 / dm, bytes_per_token, bytes_per_token / dm / 1e6, reps,
              kv_cache.c_str(), kv_bytes);
  return 0;
}
