#include "formats/gguf_model.h"

#include <regex>

#include "formats/quant.h"

namespace accel {

namespace {

Result<int64_t> MetaInt(const GgufFile& f, const std::string& key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end() || !it->is_number_integer()) return Corrupt(f.label() + ": metadata '" + key + "' is missing or not an integer");
  return it->get<int64_t>();
}

// blk.N.<gguf> -> model.layers.N.<hf>
const std::map<std::string, std::string>& LayerNames() {
  static const std::map<std::string, std::string> m = {
      {"attn_norm.weight", "input_layernorm.weight"},       {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},         {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},         {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},             {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},             {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},              {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  return m;
}

}  // namespace

Result<GgufModelParts> GgufToHf(const GgufFile& f) {
  auto arch_it = f.metadata().find("general.architecture");
  if (arch_it == f.metadata().end() || !arch_it->is_string()) return Corrupt(f.label() + ": no general.architecture");
  const std::string arch = arch_it->get<std::string>();
  if (arch != "llama") return Unsupported(f.label() + ": GGUF architecture '" + arch + "' (supported: llama)");
  const std::string p = arch + ".";
  nlohmann::json c = nlohmann::json::object();
  c["model_type"] = "llama";
  c["architectures"] = {"LlamaForCausalLM"};
  ACCEL_ASSIGN_OR_RETURN(int64_t hidden, MetaInt(f, p + "embedding_length"));
  ACCEL_ASSIGN_OR_RETURN(int64_t heads, MetaInt(f, p + "attention.head_count"));
  c["hidden_size"] = hidden;
  c["num_attention_heads"] = heads;
  ACCEL_ASSIGN_OR_RETURN(c["num_hidden_layers"], MetaInt(f, p + "block_count"));
  ACCEL_ASSIGN_OR_RETURN(c["intermediate_size"], MetaInt(f, p + "feed_forward_length"));
  ACCEL_ASSIGN_OR_RETURN(c["max_position_embeddings"], MetaInt(f, p + "context_length"));
  auto kv_heads = MetaInt(f, p + "attention.head_count_kv");
  c["num_key_value_heads"] = kv_heads.ok() ? *kv_heads : heads;
  const auto& md = f.metadata();
  auto number = [&](const std::string& key, double fallback) {
    auto it = md.find(key);
    return it != md.end() && it->is_number() ? it->get<double>() : fallback;
  };
  c["rms_norm_eps"] = number(p + "attention.layer_norm_rms_epsilon", 1e-5);
  c["rope_theta"] = number(p + "rope.freq_base", 10000.0);
  if (heads > 0 && md.contains(p + "rope.dimension_count") && md[p + "rope.dimension_count"].is_number_integer()) {
    c["partial_rotary_factor"] = static_cast<double>(md[p + "rope.dimension_count"].get<int64_t>()) / static_cast<double>(hidden / heads);
  }
  if (md.contains(p + "rope.scaling.type") && md[p + "rope.scaling.type"] == "linear") {
    c["rope_scaling"] = {{"type", "linear"}, {"factor", number(p + "rope.scaling.factor", 1.0)}};
  }
  // llama.cpp's converter permutes q/k rows so that rotary pairs are adjacent (GPT-J style).
  c["accel_rope_interleaved"] = true;
  if (md.contains("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = md["tokenizer.ggml.eos_token_id"];
  if (md.contains("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = md["tokenizer.ggml.bos_token_id"];

  std::map<std::string, Tensor> tensors;
  static const std::regex layer(R"(blk\.(\d+)\.(.+))");
  for (const auto& [name, info] : f.tensors()) {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, f.Get(name));
    std::string hf;
    std::smatch m;
    if (name == "token_embd.weight") {
      hf = "model.embed_tokens.weight";
    } else if (name == "output_norm.weight") {
      hf = "model.norm.weight";
    } else if (name == "output.weight") {
      hf = "lm_head.weight";
    } else if (std::regex_match(name, m, layer) && LayerNames().count(m[2].str())) {
      hf = "model.layers." + m[1].str() + "." + LayerNames().at(m[2].str());
    } else if (name.find("rope_freqs") != std::string::npos) {
      return Unsupported(f.label() + ": tensor '" + name + "' (per-dimension rope frequencies)");
    } else {
      return Unsupported(f.label() + ": tensor '" + name + "' has no place in a llama model");
    }
    // Embeddings and norms are read as f32 by the model; projections stay in their format.
    const bool linear = hf.find("_proj.weight") != std::string::npos || hf == "lm_head.weight";
    if (!linear && Info(t.dtype()).is_quantized) {
      ACCEL_ASSIGN_OR_RETURN(t, quant::ToF32(t));
    }
    tensors[hf] = t;
  }
  if (!tensors.count("model.embed_tokens.weight")) return Corrupt(f.label() + ": no token_embd.weight");
  c["vocab_size"] = tensors["model.embed_tokens.weight"].dim(0);
  c["tie_word_embeddings"] = !tensors.count("lm_head.weight");
  return GgufModelParts{HfConfig::FromJson(std::move(c), f.label()), WeightStore::FromTensors(std::move(tensors), f.label())};
}

}  // namespace accel
