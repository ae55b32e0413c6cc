// Decode benchmark: a LLaMA-shaped model with synthetic weights (TinyLlama-1.1B shape by
// default) in f32, q8_0 or q4_0, prefill + greedy decode through the real generation loop;
// prints ms/token and the weight bandwidth it implies.
//   decode_bench [--dtype f32|q8_0|q4_0] [--threads N] [--tokens N] [--prompt N] [--layers N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/thread_pool.h"
#include "formats/quant.h"
#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"

using namespace accel;

int main(int argc, char** argv) {
  std::string dtype_name = "q8_0";
  int threads = 1, tokens = 16, prompt = 16;
  int64_t layers = 22, hidden = 2048, heads = 32, kv_heads = 4, ffn = 5632, vocab = 32000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dtype") dtype_name = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--tokens") tokens = std::stoi(v);
    else if (k == "--prompt") prompt = std::stoi(v);
    else if (k == "--layers") layers = std::stoll(v);
    else return std::fprintf(stderr, "unknown option %s\n", k.c_str()), 2;
  }
  const DType dtype = dtype_name == "f32" ? DType::kF32 : dtype_name == "q8_0" ? DType::kQ8_0 : DType::kQ4_0;
  ThreadPool::SetDefaultThreads(threads);
  const int64_t head_dim = hidden / heads, kw = kv_heads * head_dim;
  nlohmann::json c = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"hidden_size", hidden},
                      {"num_hidden_layers", layers}, {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads},
                      {"intermediate_size", ffn}, {"vocab_size", vocab}, {"max_position_embeddings", 2048},
                      {"rms_norm_eps", 1e-5}, {"tie_word_embeddings", false}};
  uint32_t state = 12345;
  auto fill = [&](Shape s) {
    Tensor t = Tensor::Zeros(DType::kF32, s).value();
    for (size_t i = 0; i < t.numel(); ++i) {
      state = state * 1664525u + 1013904223u;
      t.data<float>()[i] = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.04f;
    }
    return t;
  };
  size_t weight_bytes = 0;
  auto linear = [&](Shape s) {
    Tensor t = fill(s);
    if (dtype != DType::kF32) t = quant::Quantize(t, dtype).value();
    weight_bytes += t.nbytes();
    return t;
  };
  std::map<std::string, Tensor> w;
  w["model.embed_tokens.weight"] = fill({vocab, hidden});
  w["model.norm.weight"] = fill({hidden});
  w["lm_head.weight"] = linear({vocab, hidden});
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    w[p + "input_layernorm.weight"] = fill({hidden});
    w[p + "post_attention_layernorm.weight"] = fill({hidden});
    w[p + "self_attn.q_proj.weight"] = linear({hidden, hidden});
    w[p + "self_attn.k_proj.weight"] = linear({kw, hidden});
    w[p + "self_attn.v_proj.weight"] = linear({kw, hidden});
    w[p + "self_attn.o_proj.weight"] = linear({hidden, hidden});
    w[p + "mlp.gate_proj.weight"] = linear({ffn, hidden});
    w[p + "mlp.up_proj.weight"] = linear({ffn, hidden});
    w[p + "mlp.down_proj.weight"] = linear({hidden, ffn});
  }
  auto model = LoadedModel::FromParts(HfConfig::FromJson(c, "synthetic"), WeightStore::FromTensors(std::move(w), "synthetic"), {});
  if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().message().c_str()), 1;
  auto* lm = dynamic_cast<CausalLm*>(&(*model)->model());
  generation::Generator gen(*lm, (*model)->backend());
  generation::GenerationOptions o;
  o.max_new_tokens = tokens;
  std::vector<int64_t> ids(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; ++i) ids[i] = 1 + i * 7;
  (void)gen.Run({ids}, {.max_new_tokens = 2});  // warm-up: page in weights, size the arena
  auto r = gen.Run({ids}, o);
  if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().message().c_str()), 1;
  const double ms_per_token = r->decode_ms / std::max<int64_t>(1, r->generated_tokens - 1);
  std::printf("dtype %s threads %d layers %lld: prefill %d tokens %.1f tok/s | decode %.1f ms/token (%.1f tok/s) | "
              "weights %.0f MB/token -> %.1f GB/s\n",
              dtype_name.c_str(), threads, static_cast<long long>(layers), prompt, prompt / (r->prefill_ms / 1000.0),
              ms_per_token, 1000.0 / ms_per_token, weight_bytes / 1e6, weight_bytes / 1e6 / ms_per_token);
  return 0;
}
