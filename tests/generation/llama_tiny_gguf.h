#pragma once
// Test helper: the llama-tiny fixture written as a GGUF file the way llama.cpp's converter lays
// it out (q/k rows permuted for adjacent-pair RoPE), optionally with extra metadata.
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "formats/quant.h"
#include "formats/safetensors.h"
#include "test_util.h"

namespace accel::test_gguf {

template <typename T>
T MustOk(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

// HF q/k rows (per head: [first half; second half]) -> llama.cpp's interleaved pairs.
inline Tensor PermuteForGguf(const Tensor& w, int64_t heads) {
  const int64_t rows = w.dim(0), in = w.dim(1), d = rows / heads;
  Tensor out = w.Clone();
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < d / 2; ++i) {
      for (int s = 0; s < 2; ++s) {
        std::memcpy(out.data<float>() + (h * d + 2 * i + s) * in, w.data<float>() + (h * d + s * d / 2 + i) * in,
                    sizeof(float) * in);
      }
    }
  }
  return out;
}

// Writes llama-tiny as GGUF with its projections in `dtype`.
inline std::string WriteLlamaTinyGguf(DType dtype, bool dequantize_back = false,
                                      const std::vector<std::pair<std::string, nlohmann::json>>& extra_metadata = {}) {
  auto st = SafetensorsFile::Open(test::ModelDir("llama-tiny") + "/model.safetensors");
  EXPECT_TRUE(st.ok());
  const std::map<std::string, std::string> names = {
      {"input_layernorm.weight", "attn_norm.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},   {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},   {"self_attn.o_proj.weight", "attn_output.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},    {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, e] : (*st)->entries()) {
    Tensor t = MustOk((*st)->Get(name));
    std::string g;
    if (name == "model.embed_tokens.weight") g = "token_embd.weight";
    else if (name == "model.norm.weight") g = "output_norm.weight";
    else if (name == "lm_head.weight") g = "output.weight";
    else {
      const size_t dot = name.find('.', std::string("model.layers.").size());
      const std::string layer = name.substr(13, dot - 13), rest = name.substr(dot + 1);
      g = "blk." + layer + "." + names.at(rest);
    }
    if (g.find("attn_q") != std::string::npos || g.find("attn_k") != std::string::npos) t = PermuteForGguf(t, 4);
    const bool projection = t.rank() == 2 && g != "token_embd.weight";
    if (projection && dtype != DType::kF32) t = MustOk(quant::Quantize(t, dtype));
    if (projection && dequantize_back) t = MustOk(quant::ToF32(t));
    tensors.emplace_back(g, t);
  }
  std::vector<std::pair<std::string, nlohmann::json>> md = {
      {"general.architecture", "llama"},         {"general.alignment", 32},
      {"llama.context_length", 64},              {"llama.embedding_length", 64},
      {"llama.block_count", 2},                  {"llama.feed_forward_length", 128},
      {"llama.attention.head_count", 4},         {"llama.attention.head_count_kv", 4},
      {"llama.rope.dimension_count", 16},        {"llama.rope.freq_base", 10000.0},
      {"llama.attention.layer_norm_rms_epsilon", 1e-5}, {"tokenizer.ggml.eos_token_id", 2},
      {"tokenizer.ggml.bos_token_id", 1}};
  md.insert(md.end(), extra_metadata.begin(), extra_metadata.end());
  const std::string path = test::MakeTempDir("gguf") + "/llama-tiny-" + std::string(Name(dtype)) + ".gguf";
  EXPECT_TRUE(WriteGguf(path, md, tensors, {"general.alignment", "llama.context_length", "llama.embedding_length",
                                             "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count",
                                             "llama.attention.head_count_kv", "llama.rope.dimension_count",
                                             "tokenizer.ggml.eos_token_id", "tokenizer.ggml.bos_token_id"}).ok());
  return path;
}


}  // namespace accel::test_gguf
