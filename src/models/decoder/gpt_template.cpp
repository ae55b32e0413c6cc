// The "gpt2" decoder template: LayerNorm decoders whose differences are data — GPT-2 (learned
// positions, Conv1D weights, also the legacy layout without `transformer.`), GPT-NeoX (per-head
// fused QKV, partial rotary, parallel residual), OPT (learned positions offset by 2, taken
// from the mask), GPT-J (interleaved partial rotary, one norm feeding attention and MLP),
// BLOOM (ALiBi, embedding LayerNorm) and Falcon-7B (multi-query fused QKV, parallel block).
#include <cmath>

#include "models/decoder/causal_lm_model.h"
#include "models/decoder/templates.h"
#include "models/decoder/weights_util.h"

namespace accel::decoder {

namespace {

std::vector<int64_t> EosIdsOf(const HfConfig& c) {
  std::vector<int64_t> ids;
  auto it = c.doc().find("eos_token_id");
  if (it != c.doc().end() && it->is_number_integer()) ids.push_back(it->get<int64_t>());
  if (it != c.doc().end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_number_integer()) ids.push_back(v.get<int64_t>());
    }
  }
  return ids;
}

// How each family stores its weights; filled by GptSpec, used by the loader below.
struct GptLayout {
  std::string type, prefix;  // prefix of the global and layer names
  bool bias = true, mlp_bias = true, lm_head_bias = false, tied = true;
  bool conv1d = false;            // GPT-2: [in, out] weights
  bool per_head_qkv = false;      // NeoX/BLOOM: fused rows (head, q|k|v, d)
  bool separate_qkv = false;      // OPT/GPT-J: q_proj/k_proj/v_proj
};

Status CheckSizes(const HfConfig& c, const DecoderSpec& s) {
  if (s.hidden > 0 && s.heads > 0 && s.hidden % s.heads != 0) {
    return c.Contradiction(c.KeyOf({"hidden_size", "n_embd"}), "is not divisible by",
                           c.KeyOf({"num_attention_heads", "n_head"}));
  }
  if (s.hidden <= 0 || s.heads <= 0 || s.hidden % s.heads != 0 || s.layers <= 0 || s.layers > 1000 || s.intermediate <= 0 ||
      s.vocab <= 0 || s.max_positions <= 0) {
    return Corrupt(c.label() + ": inconsistent sizes (hidden " + std::to_string(s.hidden) + ", heads " +
                   std::to_string(s.heads) + ", layers " + std::to_string(s.layers) + ")");
  }
  return Status::Ok();
}

Result<DecoderSpec> GptSpec(const HfConfig& c, const WeightStore& weights, GptLayout& g) {
  DecoderSpec s;
  g.type = c.model_type();
  s.architecture = c.architecture();
  s.norm = NormKind::kLayer;
  s.gated_mlp = false;
  s.eos_token_ids = EosIdsOf(c);
  s.bos_token_id = c.IntOr("bos_token_id", -1);
  ACCEL_ASSIGN_OR_RETURN(s.vocab, c.Int({"vocab_size"}));
  std::string act;
  if (g.type == "gpt2" || g.type == "gptj") {
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"n_embd"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"n_layer"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"n_head"}));
    auto inner = c.doc().find("n_inner");
    s.intermediate = inner != c.doc().end() && inner->is_number_integer() ? inner->get<int64_t>() : 4 * s.hidden;
    s.max_positions = c.IntOr("n_positions", c.IntOr("n_ctx", 1024));
    s.eps = static_cast<float>(c.FloatOr("layer_norm_epsilon", 1e-5));
    act = c.StringOr("activation_function", "gelu_new");
    if (g.type == "gpt2") {
      if (c.BoolOr("scale_attn_by_inverse_layer_idx", false)) return Unsupported(c.label() + ": scale_attn_by_inverse_layer_idx");
      if (!c.BoolOr("scale_attn_weights", true)) s.attn_scale = 1.0f;
      s.positions = PositionKind::kLearned;
      g.conv1d = true;
      g.prefix = weights.Has("wte.weight") ? "" : "transformer.";  // the original hub layout has no prefix
    } else {
      s.heads = s.heads;
      const int64_t head_dim = s.hidden / std::max<int64_t>(1, s.heads);
      auto rd = c.doc().find("rotary_dim");
      const int64_t rotary = rd != c.doc().end() && rd->is_number_integer() ? rd->get<int64_t>() : head_dim;
      ACCEL_ASSIGN_OR_RETURN(s.rope, RopeFromConfig(c, rotary, s.max_positions));
      s.rope.interleaved = true;
      s.residual = Residual::kParallelSharedNorm;
      g.prefix = "transformer.";
      g.separate_qkv = true;
      g.bias = false;
      g.lm_head_bias = true;
      g.tied = c.BoolOr("tie_word_embeddings", false);
    }
  } else if (g.type == "gpt_neox") {
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(s.intermediate, c.Int({"intermediate_size"}));
    s.max_positions = c.IntOr("max_position_embeddings", 2048);
    s.eps = static_cast<float>(c.FloatOr("layer_norm_eps", 1e-5));
    act = c.StringOr("hidden_act", "gelu");
    const int64_t head_dim = s.hidden / std::max<int64_t>(1, s.heads);
    const int64_t rotary = static_cast<int64_t>(static_cast<double>(head_dim) * c.FloatOr("rotary_pct", 0.25));
    ACCEL_ASSIGN_OR_RETURN(s.rope, RopeFromConfig(c, rotary, s.max_positions, c.Has("rope_theta") ? "rope_theta" : "rotary_emb_base"));
    s.residual = c.BoolOr("use_parallel_residual", true) ? Residual::kParallel : Residual::kSequential;
    g.prefix = "gpt_neox.";
    g.per_head_qkv = true;
    g.bias = g.mlp_bias = c.BoolOr("attention_bias", true);
    g.mlp_bias = true;
    g.tied = c.BoolOr("tie_word_embeddings", false);
  } else if (g.type == "opt") {
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(s.intermediate, c.Int({"ffn_dim"}));
    ACCEL_ASSIGN_OR_RETURN(s.max_positions, c.Int({"max_position_embeddings"}));
    if (!c.BoolOr("do_layer_norm_before", true)) return Unsupported(c.label() + ": OPT with do_layer_norm_before false (post-LN)");
    if (c.IntOr("word_embed_proj_dim", s.hidden) != s.hidden) return Unsupported(c.label() + ": OPT with word_embed_proj_dim != hidden_size");
    if (!c.BoolOr("layer_norm_elementwise_affine", true)) return Unsupported(c.label() + ": OPT without LayerNorm affine weights");
    s.eps = 1e-5f;  // OPT's LayerNorms use torch's default
    act = c.StringOr("activation_function", "relu");
    s.positions = PositionKind::kLearned;
    s.learned_position_offset = 2;
    s.forward_positions_from_mask = true;
    g.prefix = "model.decoder.";
    g.separate_qkv = true;
    g.bias = g.mlp_bias = c.BoolOr("enable_bias", true);
    g.tied = c.BoolOr("tie_word_embeddings", true);
  } else if (g.type == "bloom") {
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"n_embed", "hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"n_layer", "num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads", "n_head"}));
    s.intermediate = 4 * s.hidden;
    s.max_positions = c.IntOr("seq_length", 2048);  // ALiBi has no table; this bounds the cache
    s.eps = static_cast<float>(c.FloatOr("layer_norm_epsilon", 1e-5));
    if (c.BoolOr("apply_residual_connection_post_layernorm", false)) {
      return Unsupported(c.label() + ": BLOOM with apply_residual_connection_post_layernorm");
    }
    act = "gelu_new";  // BLOOM's bloom_gelu is the tanh approximation
    s.positions = PositionKind::kAlibi;
    s.forward_positions_from_mask = true;
    s.embed_norm = true;
    g.prefix = weights.Has("word_embeddings.weight") ? "" : "transformer.";
    g.per_head_qkv = true;
    g.tied = c.BoolOr("tie_word_embeddings", true);
  } else if (g.type == "falcon") {
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
    s.intermediate = c.IntOr("ffn_hidden_size", 4 * s.hidden);
    s.max_positions = c.IntOr("max_position_embeddings", 2048);
    s.eps = static_cast<float>(c.FloatOr("layer_norm_epsilon", 1e-5));
    if (c.BoolOr("alibi", false)) return Unsupported(c.label() + ": Falcon with ALiBi");
    if (c.BoolOr("new_decoder_architecture", false)) return Unsupported(c.label() + ": Falcon new_decoder_architecture (40B/180B layout)");
    act = c.StringOr("activation", "gelu");
    const bool multi_query = c.BoolOr("multi_query", true);
    s.kv_heads = multi_query ? 1 : s.heads;  // num_kv_heads is not read by this layout
    g.per_head_qkv = !multi_query;
    const int64_t head_dim = s.hidden / std::max<int64_t>(1, s.heads);
    ACCEL_ASSIGN_OR_RETURN(s.rope, RopeFromConfig(c, head_dim, s.max_positions));
    if (!c.BoolOr("parallel_attn", true)) return Unsupported(c.label() + ": Falcon with parallel_attn false");
    s.residual = Residual::kParallelSharedNorm;
    g.prefix = "transformer.";
    g.bias = g.mlp_bias = c.BoolOr("bias", false);
    g.tied = c.BoolOr("tie_word_embeddings", true);
  } else {
    return Unsupported(c.label() + ": model_type '" + g.type + "' is not a gpt2-template decoder");
  }
  if (s.kv_heads == 0) s.kv_heads = s.heads;
  s.head_dim = s.heads > 0 ? s.hidden / s.heads : 0;
  ACCEL_RETURN_IF_ERROR(CheckSizes(c, s));
  if (s.architecture.empty()) s.architecture = g.type;
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(act));
  return s;
}

// Layer and global names per family: {attn_norm, mlp_norm, qkv, out, fc_in, fc_out}.
struct LayerNames {
  std::string attn_norm, mlp_norm, qkv, out, fc_in, fc_out;
};

LayerNames NamesFor(const GptLayout& g, const std::string& p) {
  if (g.type == "gpt2") return {p + "ln_1", p + "ln_2", p + "attn.c_attn", p + "attn.c_proj", p + "mlp.c_fc", p + "mlp.c_proj"};
  if (g.type == "gptj") return {p + "ln_1", "", p + "attn.", p + "attn.out_proj", p + "mlp.fc_in", p + "mlp.fc_out"};
  if (g.type == "gpt_neox") {
    return {p + "input_layernorm", p + "post_attention_layernorm", p + "attention.query_key_value", p + "attention.dense",
            p + "mlp.dense_h_to_4h", p + "mlp.dense_4h_to_h"};
  }
  if (g.type == "opt") return {p + "self_attn_layer_norm", p + "final_layer_norm", p + "self_attn.", p + "self_attn.out_proj", p + "fc1", p + "fc2"};
  // bloom, falcon
  return {p + "input_layernorm", g.type == "bloom" ? p + "post_attention_layernorm" : "", p + "self_attention.query_key_value",
          p + "self_attention.dense", p + "mlp.dense_h_to_4h", p + "mlp.dense_4h_to_h"};
}

Result<DecoderLayerWeights> LoadGptLayer(ModelLoadContext& ctx, const DecoderSpec& s, const GptLayout& g, const std::string& p) {
  DecoderLayerWeights l;
  const LayerNames n = NamesFor(g, p);
  const int64_t h = s.hidden, kw = s.kv_heads * s.head_dim, qkv_rows = h + 2 * kw, ff = s.intermediate;
  ACCEL_ASSIGN_OR_RETURN(l.attn_norm, LoadNorm(ctx, n.attn_norm, h, true));
  if (!n.mlp_norm.empty()) { ACCEL_ASSIGN_OR_RETURN(l.mlp_norm, LoadNorm(ctx, n.mlp_norm, h, true)); }
  if (g.conv1d) {
    ACCEL_ASSIGN_OR_RETURN(Tensor qkv, TransposedF32(ctx, n.qkv + ".weight", h, 3 * h));
    ACCEL_ASSIGN_OR_RETURN(Tensor qkv_b, ctx.F32(n.qkv + ".bias", {3 * h}));
    ACCEL_ASSIGN_OR_RETURN(l.qkv, LinearFromTensor(ctx, qkv, qkv_b));
    ACCEL_ASSIGN_OR_RETURN(Tensor out, TransposedF32(ctx, n.out + ".weight", h, h));
    ACCEL_ASSIGN_OR_RETURN(Tensor out_b, ctx.F32(n.out + ".bias", {h}));
    ACCEL_ASSIGN_OR_RETURN(l.out, LinearFromTensor(ctx, out, out_b));
    ACCEL_ASSIGN_OR_RETURN(Tensor fc, TransposedF32(ctx, n.fc_in + ".weight", h, ff));
    ACCEL_ASSIGN_OR_RETURN(Tensor fc_b, ctx.F32(n.fc_in + ".bias", {ff}));
    ACCEL_ASSIGN_OR_RETURN(l.up, LinearFromTensor(ctx, fc, fc_b));
    ACCEL_ASSIGN_OR_RETURN(Tensor proj, TransposedF32(ctx, n.fc_out + ".weight", ff, h));
    ACCEL_ASSIGN_OR_RETURN(Tensor proj_b, ctx.F32(n.fc_out + ".bias", {h}));
    ACCEL_ASSIGN_OR_RETURN(l.down, LinearFromTensor(ctx, proj, proj_b));
    return l;
  }
  if (g.separate_qkv) {
    ACCEL_ASSIGN_OR_RETURN(l.qkv, FusedLinear(ctx, {{n.qkv + "q_proj", h}, {n.qkv + "k_proj", kw}, {n.qkv + "v_proj", kw}}, h, g.bias));
  } else if (g.per_head_qkv) {
    ACCEL_ASSIGN_OR_RETURN(Tensor w, ctx.F32(n.qkv + ".weight", {qkv_rows, h}));
    Tensor b;
    if (g.bias) {
      ACCEL_ASSIGN_OR_RETURN(Tensor bias, ctx.F32(n.qkv + ".bias", {qkv_rows}));
      b = RegroupPerHeadQkv(bias, s.heads, s.head_dim);
    }
    ACCEL_ASSIGN_OR_RETURN(l.qkv, LinearFromTensor(ctx, RegroupPerHeadQkv(w, s.heads, s.head_dim), b));
  } else {
    ACCEL_ASSIGN_OR_RETURN(l.qkv, FusedLinear(ctx, {{n.qkv, qkv_rows}}, h, g.bias));
  }
  ACCEL_ASSIGN_OR_RETURN(l.out, ctx.Linear(n.out, h, h, g.bias));
  ACCEL_ASSIGN_OR_RETURN(l.up, ctx.Linear(n.fc_in, ff, h, g.mlp_bias));
  ACCEL_ASSIGN_OR_RETURN(l.down, ctx.Linear(n.fc_out, h, ff, g.mlp_bias));
  return l;
}

}  // namespace

Result<std::unique_ptr<Model>> LoadGptDecoder(ModelLoadContext& ctx) {
  GptLayout g;
  ACCEL_ASSIGN_OR_RETURN(DecoderSpec s, GptSpec(ctx.config, ctx.weights, g));
  DecoderWeights w;
  const std::string& p = g.prefix;
  std::string embed, final_norm, head = "lm_head";
  if (g.type == "gpt2") {
    embed = p + "wte.weight", final_norm = p + "ln_f";
    ACCEL_ASSIGN_OR_RETURN(w.position_table, ctx.F32(p + "wpe.weight", {s.max_positions, s.hidden}));
  } else if (g.type == "gptj") {
    embed = p + "wte.weight", final_norm = p + "ln_f";
  } else if (g.type == "gpt_neox") {
    embed = p + "embed_in.weight", final_norm = p + "final_layer_norm", head = "embed_out";
  } else if (g.type == "opt") {
    embed = p + "embed_tokens.weight", final_norm = p + "final_layer_norm";
    ACCEL_ASSIGN_OR_RETURN(w.position_table, ctx.F32(p + "embed_positions.weight", {s.max_positions + 2, s.hidden}));
  } else {  // bloom, falcon
    embed = p + "word_embeddings.weight", final_norm = p + "ln_f";
  }
  ACCEL_ASSIGN_OR_RETURN(w.embed, ctx.F32(embed, {s.vocab, s.hidden}));
  if (s.embed_norm) { ACCEL_ASSIGN_OR_RETURN(w.embed_norm, LoadNorm(ctx, p + "word_embeddings_layernorm", s.hidden, true)); }
  if (s.positions == PositionKind::kAlibi) {
    const std::vector<float> slopes = AlibiSlopes(s.heads);
    ACCEL_ASSIGN_OR_RETURN(w.alibi_slopes, Tensor::Zeros(DType::kF32, {s.heads}));
    std::copy(slopes.begin(), slopes.end(), w.alibi_slopes.data<float>());
  }
  const std::string layer_prefix = g.type == "gpt_neox" || g.type == "opt" ? p + "layers." : p + "h.";
  for (int64_t i = 0; i < s.layers; ++i) {
    ACCEL_ASSIGN_OR_RETURN(DecoderLayerWeights l, LoadGptLayer(ctx, s, g, layer_prefix + std::to_string(i) + "."));
    w.layers.push_back(std::move(l));
  }
  ACCEL_ASSIGN_OR_RETURN(w.final_norm, LoadNorm(ctx, final_norm, s.hidden, true));
  if (g.tied && !ctx.weights.Has(head + ".weight")) {
    // Packed from the stored tensor, not the f32 embedding copy: f16 / bf16 stay 16-bit.
    ACCEL_ASSIGN_OR_RETURN(w.lm_head, ctx.Linear(embed.substr(0, embed.size() - 7), s.vocab, s.hidden, false));
  } else {
    ACCEL_ASSIGN_OR_RETURN(w.lm_head, ctx.Linear(head, s.vocab, s.hidden, g.lm_head_bias));
  }
  return std::unique_ptr<Model>(new DecoderModel(std::move(s), std::move(w)));
}

}  // namespace accel::decoder
