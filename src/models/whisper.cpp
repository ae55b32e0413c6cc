// WhisperForConditionalGeneration: log-mel frames -> two Conv1d (+GELU, the second strided) ->
// sinusoidal positions (stored in the checkpoint) -> pre-LN encoder; a pre-LN decoder with
// learned positions, causal self-attention over a KV cache and cross-attention over keys/values
// computed once from the encoder output; logits through the (tied) token embedding.
#include "models/whisper.h"

#include "models/blocks.h"
#include "models/seq2seq.h"

namespace accel {
namespace {

struct DecoderLayer {
  Tensor self_ln_w, self_ln_b, cross_ln_w, cross_ln_b, ffn_ln_w, ffn_ln_b;
  LinearLayer self_qkv, self_out, cross_q, cross_kv, cross_out, fc1, fc2;
};

class Whisper final : public Model, public TextGenerator {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    const HfConfig& c = ctx.config;
    auto m = std::unique_ptr<Whisper>(new Whisper());
    m->architecture_ = c.architecture().empty() ? "WhisperForConditionalGeneration" : c.architecture();
    if (m->architecture_ != "WhisperForConditionalGeneration") {
      return Unsupported(c.label() + ": architecture '" + m->architecture_ + "' (WhisperForConditionalGeneration only)");
    }
    ACCEL_ASSIGN_OR_RETURN(m->d_, c.Int({"d_model"}));
    ACCEL_ASSIGN_OR_RETURN(m->mels_, c.Int({"num_mel_bins"}));
    ACCEL_ASSIGN_OR_RETURN(m->vocab_, c.Int({"vocab_size"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t enc_layers, c.Int({"encoder_layers"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t dec_layers, c.Int({"decoder_layers"}));
    ACCEL_ASSIGN_OR_RETURN(m->enc_heads_, c.Int({"encoder_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(m->dec_heads_, c.Int({"decoder_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t enc_ffn, c.Int({"encoder_ffn_dim"}));
    ACCEL_ASSIGN_OR_RETURN(int64_t dec_ffn, c.Int({"decoder_ffn_dim"}));
    ACCEL_ASSIGN_OR_RETURN(m->source_positions_, c.Int({"max_source_positions"}));
    ACCEL_ASSIGN_OR_RETURN(m->target_positions_, c.Int({"max_target_positions"}));
    ACCEL_ASSIGN_OR_RETURN(m->act_, ActivationFromHf(c.StringOr("activation_function", "gelu")));
    m->decoder_start_ = c.IntOr("decoder_start_token_id", 50257);
    if (c.BoolOr("scale_embedding", false)) return Unsupported(c.label() + ": scale_embedding is not supported");
    const int64_t d = m->d_;
    if (d > 0 && m->enc_heads_ > 0 && d % m->enc_heads_) {
      return c.Contradiction("d_model", "is not divisible by", "encoder_attention_heads");
    }
    if (d > 0 && m->dec_heads_ > 0 && d % m->dec_heads_) {
      return c.Contradiction("d_model", "is not divisible by", "decoder_attention_heads");
    }
    if (d <= 0 || m->enc_heads_ <= 0 || d % m->enc_heads_ || m->dec_heads_ <= 0 || d % m->dec_heads_ || enc_layers <= 0 ||
        dec_layers <= 0 || enc_layers > 1000 || dec_layers > 1000 || enc_ffn <= 0 || dec_ffn <= 0 || m->vocab_ <= 0 ||
        m->source_positions_ <= 0 || m->target_positions_ <= 0 || m->mels_ <= 0) {
      return Corrupt(c.label() + ": inconsistent Whisper sizes");
    }
    const std::string e = "model.encoder.", dd = "model.decoder.";
    ACCEL_ASSIGN_OR_RETURN(m->conv1_w_, ctx.F32(e + "conv1.weight", {d, m->mels_, 3}));
    ACCEL_ASSIGN_OR_RETURN(m->conv1_b_, ctx.F32(e + "conv1.bias", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->conv2_w_, ctx.F32(e + "conv2.weight", {d, d, 3}));
    ACCEL_ASSIGN_OR_RETURN(m->conv2_b_, ctx.F32(e + "conv2.bias", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->enc_pos_, ctx.F32(e + "embed_positions.weight", {m->source_positions_, d}));
    for (int64_t i = 0; i < enc_layers; ++i) {
      const std::string p = e + "layers." + std::to_string(i) + ".";
      blocks::LayerNames n{p + "self_attn_layer_norm", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj",
                           p + "self_attn.out_proj", p + "final_layer_norm", p + "fc1", p + "fc2"};
      ACCEL_ASSIGN_OR_RETURN(auto layer, blocks::LoadLayer(ctx, n, d, enc_ffn));
      m->encoder_.push_back(std::move(layer));
    }
    ACCEL_ASSIGN_OR_RETURN(m->enc_ln_w_, ctx.F32(e + "layer_norm.weight", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->enc_ln_b_, ctx.F32(e + "layer_norm.bias", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->tokens_, ctx.F32(dd + "embed_tokens.weight", {m->vocab_, d}));
    ACCEL_ASSIGN_OR_RETURN(m->dec_pos_, ctx.F32(dd + "embed_positions.weight", {m->target_positions_, d}));
    for (int64_t i = 0; i < dec_layers; ++i) {
      const std::string p = dd + "layers." + std::to_string(i) + ".";
      DecoderLayer l;
      ACCEL_ASSIGN_OR_RETURN(l.self_ln_w, ctx.F32(p + "self_attn_layer_norm.weight", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.self_ln_b, ctx.F32(p + "self_attn_layer_norm.bias", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.self_qkv, blocks::LoadFusedQkv(ctx, p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj", d, d));
      ACCEL_ASSIGN_OR_RETURN(l.self_out, ctx.Linear(p + "self_attn.out_proj", d, d));
      ACCEL_ASSIGN_OR_RETURN(l.cross_ln_w, ctx.F32(p + "encoder_attn_layer_norm.weight", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.cross_ln_b, ctx.F32(p + "encoder_attn_layer_norm.bias", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.cross_q, ctx.Linear(p + "encoder_attn.q_proj", d, d));
      ACCEL_ASSIGN_OR_RETURN(l.cross_kv, LoadFusedKv(ctx, p + "encoder_attn.k_proj", p + "encoder_attn.v_proj", d));
      ACCEL_ASSIGN_OR_RETURN(l.cross_out, ctx.Linear(p + "encoder_attn.out_proj", d, d));
      ACCEL_ASSIGN_OR_RETURN(l.ffn_ln_w, ctx.F32(p + "final_layer_norm.weight", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.ffn_ln_b, ctx.F32(p + "final_layer_norm.bias", {d}));
      ACCEL_ASSIGN_OR_RETURN(l.fc1, ctx.Linear(p + "fc1", dec_ffn, d));
      ACCEL_ASSIGN_OR_RETURN(l.fc2, ctx.Linear(p + "fc2", d, dec_ffn));
      m->decoder_.push_back(std::move(l));
    }
    ACCEL_ASSIGN_OR_RETURN(m->dec_ln_w_, ctx.F32(dd + "layer_norm.weight", {d}));
    ACCEL_ASSIGN_OR_RETURN(m->dec_ln_b_, ctx.F32(dd + "layer_norm.bias", {d}));
    // proj_out is tied to the token embedding; HF omits it from saved checkpoints.
    const std::string head = ctx.weights.Has("proj_out.weight") ? "proj_out" : dd + "embed_tokens";
    ACCEL_ASSIGN_OR_RETURN(m->proj_out_, ctx.Linear(head, m->vocab_, d, false));
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return architecture_; }
  std::vector<std::string> required_inputs() const override { return {"input_features"}; }
  // Without decoder_input_ids the forward pass is the encoder alone (HF's get_encoder()).
  std::vector<std::string> optional_inputs() const override { return {"decoder_input_ids"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    ACCEL_ASSIGN_OR_RETURN(Tensor enc, Encode(ex, *blocks::FindInput(inputs, "input_features")));
    TensorMap out;
    const Tensor* decoder_ids = blocks::FindInput(inputs, "decoder_input_ids");
    if (!decoder_ids) {
      ACCEL_ASSIGN_OR_RETURN(out["encoder_last_hidden_state"], ex.Download(enc));
      return out;
    }
    const Tensor& ids = *decoder_ids;
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "decoder_input_ids"));
    if (ids.dim(0) != enc.dim(0)) return InvalidArgument("decoder_input_ids batch differs from input_features batch");
    ACCEL_ASSIGN_OR_RETURN(State state, Start(ex, enc, ids.dim(1)));
    ACCEL_ASSIGN_OR_RETURN(Tensor logits, Step(ex, state, ids));
    ACCEL_ASSIGN_OR_RETURN(out["logits"], ex.Download(logits));
    ACCEL_ASSIGN_OR_RETURN(out["encoder_last_hidden_state"], ex.Download(enc));
    return out;
  }

  Result<Tensor> GenerateGreedy(Exec& ex, const GenerateRequest& r) override {
    const Tensor* features = blocks::FindInput(r.inputs, "input_features");
    if (!features) return InvalidArgument("Whisper generation needs input_features");
    ACCEL_ASSIGN_OR_RETURN(Tensor enc, Encode(ex, *features));
    Tensor prompt;
    if (const Tensor* given = blocks::FindInput(r.inputs, "decoder_input_ids")) {
      prompt = *given;
    } else {
      ACCEL_ASSIGN_OR_RETURN(prompt, Tensor::Zeros(DType::kI64, {enc.dim(0), 1}));
      for (int64_t b = 0; b < enc.dim(0); ++b) prompt.data<int64_t>()[b] = decoder_start_;
    }
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(prompt, "decoder_input_ids"));
    if (prompt.dim(0) != enc.dim(0)) return InvalidArgument("decoder_input_ids batch differs from input_features batch");
    const int64_t capacity = std::min(target_positions_, prompt.dim(1) + r.max_new_tokens);
    ACCEL_ASSIGN_OR_RETURN(State state, Start(ex, enc, capacity));
    return seq2seq::GreedyLoop(prompt, r, [&](const Tensor& ids) -> Result<Tensor> {
      ACCEL_ASSIGN_OR_RETURN(Tensor logits, Step(ex, state, ids));
      return ex.Download(logits);
    });
  }

 private:
  struct State {
    std::vector<seq2seq::KvCache> self;
    std::vector<Tensor> cross_kv;  // per layer [B, S, 2d]
  };

  static Result<LinearLayer> LoadFusedKv(ModelLoadContext& ctx, const std::string& k, const std::string& v, int64_t d) {
    ACCEL_ASSIGN_OR_RETURN(Tensor w, Tensor::Zeros(DType::kF32, {2 * d, d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor b, Tensor::Zeros(DType::kF32, {2 * d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor kw, ctx.F32(k + ".weight", {d, d}));  // k_proj has no bias
    ACCEL_ASSIGN_OR_RETURN(Tensor vw, ctx.F32(v + ".weight", {d, d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor vb, ctx.F32(v + ".bias", {d}));
    std::copy_n(kw.data<float>(), d * d, w.data<float>());
    std::copy_n(vw.data<float>(), d * d, w.data<float>() + d * d);
    std::copy_n(vb.data<float>(), d, b.data<float>() + d);
    LinearLayer l;
    ACCEL_ASSIGN_OR_RETURN(l.weight, ctx.backend.PackLinear(w, ctx.compute));
    l.bias = std::move(b);
    return l;
  }

  Result<Tensor> Encode(Exec& ex, const Tensor& features) {
    if (features.dtype() != DType::kF32 || features.rank() != 3 || features.dim(1) != mels_ || features.dim(0) <= 0) {
      return InvalidArgument("input_features must be f32 [batch, " + std::to_string(mels_) + ", frames], got " + ShapeToString(features.shape()));
    }
    if (features.dim(2) != 2 * source_positions_) {
      return InvalidArgument("Whisper expects input_features of " + std::to_string(2 * source_positions_) + " frames, got " +
                             std::to_string(features.dim(2)));
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor c1, ex.Conv1d(features, conv1_w_, &conv1_b_, 1, 1, 1));
    ACCEL_RETURN_IF_ERROR(ex.Activate(act_, c1));
    ACCEL_ASSIGN_OR_RETURN(Tensor c2, ex.Conv1d(c1, conv2_w_, &conv2_b_, 2, 1, 1));
    ACCEL_RETURN_IF_ERROR(ex.Activate(act_, c2));
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.TransposeLast2(c2));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(x, enc_pos_, x));
    blocks::LayerOptions o;
    o.eps = kEps;
    o.act = act_;
    o.attention = blocks::MultiHead(d_, enc_heads_);
    for (const auto& l : encoder_) {
      ACCEL_ASSIGN_OR_RETURN(x, blocks::PreLnForward(ex, l, x, o));
    }
    return ex.LayerNorm(x, enc_ln_w_, &enc_ln_b_, kEps);
  }

  // Cross-attention keys/values for every decoder layer, computed once per encoder output.
  Result<State> Start(Exec& ex, const Tensor& enc, int64_t capacity) {
    State s;
    for (const auto& l : decoder_) {
      ACCEL_ASSIGN_OR_RETURN(auto cache, seq2seq::NewKvCache(ex, enc.dim(0), capacity, d_));
      s.self.push_back(std::move(cache));
      ACCEL_ASSIGN_OR_RETURN(Tensor kv, ex.Linear(enc, l.cross_kv));
      s.cross_kv.push_back(kv);
    }
    return s;
  }

  Result<Tensor> Step(Exec& ex, State& s, const Tensor& ids) {
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "decoder_input_ids"));
    const int64_t offset = s.self.empty() ? 0 : s.self[0].length, t = ids.dim(1);
    if (offset + t > target_positions_) {
      return InvalidArgument("decoder sequence of " + std::to_string(offset + t) + " tokens exceeds max_target_positions " +
                             std::to_string(target_positions_));
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(tokens_, ids));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(x, dec_pos_.SliceRows(offset, offset + t), x));
    const AttentionParams p = blocks::MultiHead(d_, dec_heads_);
    for (size_t i = 0; i < decoder_.size(); ++i) {
      const DecoderLayer& l = decoder_[i];
      ACCEL_ASSIGN_OR_RETURN(Tensor h, ex.LayerNorm(x, l.self_ln_w, &l.self_ln_b, kEps));
      ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(h, l.self_qkv));
      ACCEL_ASSIGN_OR_RETURN(Tensor sa, seq2seq::CachedSelfAttention(ex, s.self[i], qkv, p, nullptr));
      ACCEL_ASSIGN_OR_RETURN(Tensor so, ex.Linear(sa, l.self_out));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(so, x, so));
      ACCEL_ASSIGN_OR_RETURN(Tensor h2, ex.LayerNorm(so, l.cross_ln_w, &l.cross_ln_b, kEps));
      ACCEL_ASSIGN_OR_RETURN(Tensor q, ex.Linear(h2, l.cross_q));
      ACCEL_ASSIGN_OR_RETURN(Tensor ca, seq2seq::CrossAttention(ex, q, s.cross_kv[i], p));
      ACCEL_ASSIGN_OR_RETURN(Tensor co, ex.Linear(ca, l.cross_out));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(co, so, co));
      ACCEL_ASSIGN_OR_RETURN(Tensor h3, ex.LayerNorm(co, l.ffn_ln_w, &l.ffn_ln_b, kEps));
      ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(h3, l.fc1, act_));
      ACCEL_ASSIGN_OR_RETURN(x, ex.Linear(inner, l.fc2));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(x, co, x));
    }
    ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(x, dec_ln_w_, &dec_ln_b_, kEps));
    return ex.Linear(x, proj_out_);
  }

  static constexpr float kEps = 1e-5f;  // Whisper's LayerNorms use torch's default
  std::string architecture_;
  int64_t d_ = 0, mels_ = 0, vocab_ = 0, enc_heads_ = 0, dec_heads_ = 0, source_positions_ = 0, target_positions_ = 0;
  int64_t decoder_start_ = 0;
  Activation act_ = Activation::kGeluErf;
  Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_, enc_pos_, enc_ln_w_, enc_ln_b_, tokens_, dec_pos_, dec_ln_w_, dec_ln_b_;
  std::vector<blocks::TransformerLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  LinearLayer proj_out_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadWhisper(ModelLoadContext& ctx) { return Whisper::Load(ctx); }

}  // namespace accel
