// The "llama" decoder template: LlamaForCausalLM and the architectures that are LLaMA plus
// data — Mistral (sliding window), Qwen2 (q/k/v bias), Qwen3 (per-head q/k RMSNorm, explicit
// head_dim), Gemma (scaled embeddings, RMSNorm x(1+w), GeGLU, MQA), Phi-3 (fused qkv_proj and
// gate_up_proj, partial rotary). GGUF llama files map onto the same names (formats/gguf_model).
#include <cmath>

#include "models/decoder/causal_lm_model.h"
#include "models/decoder/templates.h"
#include "models/decoder/weights_util.h"

namespace accel::decoder {

namespace {

std::vector<int64_t> EosIds(const HfConfig& c) {
  std::vector<int64_t> ids;
  auto it = c.doc().find("eos_token_id");
  if (it == c.doc().end()) return ids;
  if (it->is_number_integer()) ids.push_back(it->get<int64_t>());
  if (it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_number_integer()) ids.push_back(v.get<int64_t>());
    }
  }
  return ids;
}

struct LlamaFlags {
  bool qkv_bias = false, out_bias = false, mlp_bias = false, fused_qkv = false, fused_gate_up = false, tied = false;
  float norm_add = 0.0f;
};

Result<DecoderSpec> LlamaSpec(const HfConfig& c, LlamaFlags& f) {
  const std::string type = c.model_type();
  DecoderSpec s;
  s.architecture = c.architecture().empty() ? "LlamaForCausalLM" : c.architecture();
  ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
  ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.intermediate, c.Int({"intermediate_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.vocab, c.Int({"vocab_size"}));
  s.kv_heads = c.IntOr("num_key_value_heads", s.heads);
  s.head_dim = c.IntOr("head_dim", s.heads > 0 ? s.hidden / s.heads : 0);
  s.max_positions = c.IntOr("max_position_embeddings", 2048);
  s.eps = static_cast<float>(c.FloatOr("rms_norm_eps", 1e-6));
  s.norm = NormKind::kRms;
  s.gated_mlp = true;
  s.eos_token_ids = EosIds(c);
  s.bos_token_id = c.IntOr("bos_token_id", -1);
  if (!c.Has("head_dim") && s.hidden > 0 && s.heads > 0 && s.hidden % s.heads != 0) {
    return c.Contradiction("hidden_size", "is not divisible by", "num_attention_heads");
  }
  if (s.heads > 0 && s.kv_heads > 0 && s.heads % s.kv_heads != 0) {
    return c.Contradiction("num_attention_heads", "is not a multiple of", "num_key_value_heads");
  }
  if (s.hidden <= 0 || s.heads <= 0 || s.kv_heads <= 0 || s.heads % s.kv_heads != 0 || s.head_dim <= 0 ||
      s.layers <= 0 || s.layers > 1000 || s.intermediate <= 0 || s.vocab <= 0 || s.max_positions <= 0) {
    return Corrupt(c.label() + ": inconsistent sizes (hidden " + std::to_string(s.hidden) + ", heads " +
                   std::to_string(s.heads) + "/" + std::to_string(s.kv_heads) + ", head_dim " + std::to_string(s.head_dim) + ")");
  }
  std::string act = c.StringOr("hidden_act", "silu");
  f.tied = c.BoolOr("tie_word_embeddings", type == "gemma");
  if (type == "llama" || type == "mistral") {
    f.qkv_bias = f.out_bias = c.BoolOr("attention_bias", false);
    f.mlp_bias = c.BoolOr("mlp_bias", false);
  } else if (type == "qwen2") {
    f.qkv_bias = true;
  } else if (type == "qwen3") {
    f.qkv_bias = f.out_bias = c.BoolOr("attention_bias", false);
    s.qk_norm = true;
  } else if (type == "gemma") {
    act = c.StringOr("hidden_activation", "gelu_pytorch_tanh");
    s.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(s.hidden)));
    f.norm_add = 1.0f;
    f.qkv_bias = f.out_bias = c.BoolOr("attention_bias", false);
  } else if (type == "phi3") {
    f.fused_qkv = f.fused_gate_up = true;
  }
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(act));
  // Sliding window: Mistral and Phi-3 say it directly; Qwen2/3 only when use_sliding_window.
  auto window = c.doc().find("sliding_window");
  if (window != c.doc().end() && window->is_number_integer()) {
    const bool qwen = type == "qwen2" || type == "qwen3";
    if (!qwen || c.BoolOr("use_sliding_window", false)) {
      if (qwen && c.IntOr("max_window_layers", s.layers) < s.layers) {
        return Unsupported(c.label() + ": sliding window on only some layers (max_window_layers)");
      }
      s.sliding_window = window->get<int64_t>();
    }
  }
  const double partial = c.FloatOr("partial_rotary_factor", 1.0);
  const int64_t rotary = static_cast<int64_t>(static_cast<double>(s.head_dim) * partial);
  ACCEL_ASSIGN_OR_RETURN(s.rope, RopeFromConfig(c, rotary, s.max_positions));
  s.rope.interleaved = c.BoolOr("accel_rope_interleaved", false);  // set by the GGUF loader
  return s;
}

Result<DecoderLayerWeights> LoadLlamaLayer(ModelLoadContext& ctx, const DecoderSpec& s, const LlamaFlags& f,
                                           const std::string& p) {
  DecoderLayerWeights l;
  const int64_t h = s.hidden, qw = s.heads * s.head_dim, kw = s.kv_heads * s.head_dim, ff = s.intermediate;
  ACCEL_ASSIGN_OR_RETURN(l.attn_norm, LoadNorm(ctx, p + "input_layernorm", h, false, f.norm_add));
  ACCEL_ASSIGN_OR_RETURN(l.mlp_norm, LoadNorm(ctx, p + "post_attention_layernorm", h, false, f.norm_add));
  if (f.fused_qkv) {
    ACCEL_ASSIGN_OR_RETURN(l.qkv, FusedLinear(ctx, {{p + "self_attn.qkv_proj", qw + 2 * kw}}, h, f.qkv_bias));
  } else {
    ACCEL_ASSIGN_OR_RETURN(l.qkv, FusedLinear(ctx, {{p + "self_attn.q_proj", qw}, {p + "self_attn.k_proj", kw},
                                                    {p + "self_attn.v_proj", kw}}, h, f.qkv_bias));
  }
  ACCEL_ASSIGN_OR_RETURN(l.out, ctx.Linear(p + "self_attn.o_proj", h, qw, f.out_bias));
  if (s.qk_norm) {
    ACCEL_ASSIGN_OR_RETURN(l.q_norm, ctx.F32(p + "self_attn.q_norm.weight", {s.head_dim}));
    ACCEL_ASSIGN_OR_RETURN(l.k_norm, ctx.F32(p + "self_attn.k_norm.weight", {s.head_dim}));
  }
  if (f.fused_gate_up) {
    ACCEL_ASSIGN_OR_RETURN(l.up, FusedLinear(ctx, {{p + "mlp.gate_up_proj", 2 * ff}}, h, f.mlp_bias));
  } else {
    ACCEL_ASSIGN_OR_RETURN(l.up, FusedLinear(ctx, {{p + "mlp.gate_proj", ff}, {p + "mlp.up_proj", ff}}, h, f.mlp_bias));
  }
  ACCEL_ASSIGN_OR_RETURN(l.down, ctx.Linear(p + "mlp.down_proj", h, ff, f.mlp_bias));
  return l;
}

}  // namespace

Result<std::unique_ptr<DecoderModel>> LoadLlamaLanguageModel(ModelLoadContext& ctx, const std::string& model_prefix,
                                                             const std::string& lm_head) {
  LlamaFlags f;
  ACCEL_ASSIGN_OR_RETURN(DecoderSpec s, LlamaSpec(ctx.config, f));
  DecoderWeights w;
  const std::string embed = model_prefix + "embed_tokens";
  ACCEL_ASSIGN_OR_RETURN(w.embed, ctx.F32(embed + ".weight", {s.vocab, s.hidden}));
  for (int64_t i = 0; i < s.layers; ++i) {
    ACCEL_ASSIGN_OR_RETURN(DecoderLayerWeights l, LoadLlamaLayer(ctx, s, f, model_prefix + "layers." + std::to_string(i) + "."));
    w.layers.push_back(std::move(l));
  }
  ACCEL_ASSIGN_OR_RETURN(w.final_norm, LoadNorm(ctx, model_prefix + "norm", s.hidden, false, f.norm_add));
  if (f.tied || !ctx.weights.Has(lm_head + ".weight")) {
    if (!f.tied) return Corrupt(ctx.weights.label() + ": '" + lm_head + ".weight' is missing and tie_word_embeddings is false");
    // Packed from the stored tensor, not the f32 embedding copy: f16 / bf16 stay 16-bit.
    ACCEL_ASSIGN_OR_RETURN(w.lm_head, ctx.Linear(embed, s.vocab, s.hidden, false));
  } else {
    ACCEL_ASSIGN_OR_RETURN(w.lm_head, ctx.Linear(lm_head, s.vocab, s.hidden, false));
  }
  return std::make_unique<DecoderModel>(std::move(s), std::move(w));
}

Result<std::unique_ptr<Model>> LoadLlamaDecoder(ModelLoadContext& ctx) {
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> m, LoadLlamaLanguageModel(ctx, "model.", "lm_head"));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace accel::decoder
