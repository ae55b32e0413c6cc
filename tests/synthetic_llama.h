#pragma once
// Test helper: a small LLaMA-shaped decoder with random weights whose projections are whole
// 256-element super-blocks, so every K-quant and IQ4 type applies to all of them.
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "formats/hf_config.h"
#include "formats/model_source.h"
#include "test_util.h"

namespace accel::test {

// A LLaMA-shaped decoder whose projections are whole super-blocks (hidden 256, ffn 512): the
// llama-tiny fixture's rows (64, 128) are not, and would all be written as Q8_0.
inline WeightStore SyntheticLlamaWeights(HfConfig* config) {
  const int64_t hidden = 256, ffn = 512, layers = 2, heads = 4, kv_heads = 2, vocab = 320, kw = kv_heads * hidden / heads;
  nlohmann::json c = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"hidden_size", hidden},
                      {"num_hidden_layers", layers}, {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads},
                      {"intermediate_size", ffn}, {"vocab_size", vocab}, {"max_position_embeddings", 128},
                      {"rms_norm_eps", 1e-5}, {"tie_word_embeddings", false}, {"bos_token_id", 1}, {"eos_token_id", 2}};
  *config = HfConfig::FromJson(c, "synthetic");
  std::map<std::string, Tensor> w;
  uint32_t seed = 1;
  // Projections scaled like a trained model's (~1/sqrt(fan_in)), so activations stay O(1).
  auto lin = [&](const std::string& name, Shape shape) { w[name] = RandomTensor(shape, seed++, 1.7f / std::sqrt(float(shape[1]))); };
  auto norm = [&](const std::string& name) {
    Tensor t = RandomTensor({hidden}, seed++, 0.2f);
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] += 1.0f;
    w[name] = t;
  };
  w["model.embed_tokens.weight"] = RandomTensor({vocab, hidden}, seed++, 1.0f);
  norm("model.norm.weight");
  lin("lm_head.weight", {vocab, hidden});
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    norm(p + "input_layernorm.weight");
    norm(p + "post_attention_layernorm.weight");
    lin(p + "self_attn.q_proj.weight", {hidden, hidden});
    lin(p + "self_attn.k_proj.weight", {kw, hidden});
    lin(p + "self_attn.v_proj.weight", {kw, hidden});
    lin(p + "self_attn.o_proj.weight", {hidden, hidden});
    lin(p + "mlp.gate_proj.weight", {ffn, hidden});
    lin(p + "mlp.up_proj.weight", {ffn, hidden});
    lin(p + "mlp.down_proj.weight", {hidden, ffn});
  }
  return WeightStore::FromTensors(std::move(w), "synthetic");
}


}  // namespace accel::test
