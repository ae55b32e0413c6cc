#pragma once
// What distinguishes one decoder-only architecture from another, as data. The "llama" and
// "gpt2" templates (llama_template.cpp, gpt_template.cpp) read config.json into a DecoderSpec
// and map checkpoint names onto DecoderWeights; causal_lm.cpp runs every one of them.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/exec.h"
#include "models/decoder/rope.h"

namespace accel::decoder {

enum class NormKind { kRms, kLayer };
enum class PositionKind { kRope, kLearned, kAlibi };
// kSequential: x += attn(n1(x)); x += mlp(n2(x))       (LLaMA, GPT-2, OPT, BLOOM)
// kParallel:   x += attn(n1(x)) + mlp(n2(x))           (GPT-NeoX use_parallel_residual)
// kParallelSharedNorm: x += attn(n(x)) + mlp(n(x))     (GPT-J, Falcon-7B)
enum class Residual { kSequential, kParallel, kParallelSharedNorm };

struct DecoderSpec {
  std::string architecture;
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0;
  int64_t max_positions = 0;
  NormKind norm = NormKind::kRms;
  float eps = 1e-6f;
  Activation act = Activation::kSilu;
  bool gated_mlp = true;  // down(act(gate) * up) instead of fc2(act(fc1))
  PositionKind positions = PositionKind::kRope;
  int64_t learned_position_offset = 0;  // OPT's positions are stored 2 rows down
  RopeConfig rope;
  Residual residual = Residual::kSequential;
  float embed_scale = 1.0f;  // Gemma multiplies embeddings by sqrt(hidden)
  float attn_scale = 0.0f;   // 0 = 1/sqrt(head_dim)
  int64_t sliding_window = 0;
  bool qk_norm = false;       // Qwen3: RMSNorm per head on q and k before RoPE
  bool embed_norm = false;    // BLOOM: LayerNorm right after the embedding
  // HF computes positions (or ALiBi offsets) from attention_mask in forward() for some models
  // (OPT, BLOOM); others use 0..S-1 there. Generation always derives them from the mask.
  bool forward_positions_from_mask = false;
  std::vector<int64_t> eos_token_ids;
  int64_t bos_token_id = -1;
};

struct NormWeights {
  Tensor weight, bias;  // bias undefined for RMSNorm and bias-free LayerNorm
};

struct DecoderLayerWeights {
  NormWeights attn_norm, mlp_norm;  // mlp_norm unused with kParallelSharedNorm
  LinearLayer qkv;                  // rows [q (heads*D); k (kv_heads*D); v (kv_heads*D)]
  LinearLayer out;
  Tensor q_norm, k_norm;            // [head_dim], Qwen3
  LinearLayer up;                   // gated: [gate; up] (2F rows); else fc_in (F rows)
  LinearLayer down;
};

struct DecoderWeights {
  Tensor embed;             // [vocab, hidden]
  Tensor position_table;    // learned positions [rows, hidden]
  NormWeights embed_norm;   // BLOOM
  std::vector<DecoderLayerWeights> layers;
  NormWeights final_norm;
  LinearLayer lm_head;
  Tensor alibi_slopes;  // f32 [heads] (ALiBi models)
};

}  // namespace accel::decoder
