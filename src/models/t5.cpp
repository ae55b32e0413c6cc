// T5ForConditionalGeneration / MT5ForConditionalGeneration: RMS-normed pre-norm encoder and
// decoder without biases, unscaled attention with a learned relative position bias (computed
// by the first block from log-spaced distance buckets and shared by all blocks of the stack),
// ReLU or gated (v1.1: gelu_new(wi_0 x) * wi_1 x) feed-forward, and a head that is either the
// shared embedding with a d_model^-0.5 rescale (tied, v1.0) or an untied lm_head.
#include "models/t5.h"

#include <cmath>

#include "models/blocks.h"
#include "models/seq2seq.h"

namespace accel {
namespace {

struct T5Spec {
  std::string architecture;
  int64_t vocab = 0, d = 0, d_kv = 0, d_ff = 0, heads = 0, enc_layers = 0, dec_layers = 0, buckets = 32, max_distance = 128;
  float eps = 1e-6f;
  bool gated = false, tied = true;
  Activation act = Activation::kRelu;
  int64_t decoder_start = 0;
  int64_t inner() const { return heads * d_kv; }
};

Result<T5Spec> SpecFromConfig(const HfConfig& c) {
  T5Spec s;
  s.architecture = c.architecture();
  if (s.architecture.empty()) s.architecture = c.model_type() == "mt5" ? "MT5ForConditionalGeneration" : "T5ForConditionalGeneration";
  if (s.architecture != "T5ForConditionalGeneration" && s.architecture != "MT5ForConditionalGeneration") {
    return Unsupported(c.label() + ": architecture '" + s.architecture + "' (T5/MT5ForConditionalGeneration only)");
  }
  ACCEL_ASSIGN_OR_RETURN(s.vocab, c.Int({"vocab_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.d, c.Int({"d_model"}));
  ACCEL_ASSIGN_OR_RETURN(s.d_kv, c.Int({"d_kv"}));
  ACCEL_ASSIGN_OR_RETURN(s.d_ff, c.Int({"d_ff"}));
  ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_heads"}));
  ACCEL_ASSIGN_OR_RETURN(s.enc_layers, c.Int({"num_layers"}));
  s.dec_layers = c.IntOr("num_decoder_layers", s.enc_layers);
  s.buckets = c.IntOr("relative_attention_num_buckets", 32);
  s.max_distance = c.IntOr("relative_attention_max_distance", 128);
  s.eps = static_cast<float>(c.FloatOr("layer_norm_epsilon", 1e-6));
  s.tied = c.BoolOr("tie_word_embeddings", true);
  s.decoder_start = c.IntOr("decoder_start_token_id", c.IntOr("pad_token_id", 0));
  // HF's T5Config: "gated-gelu" means gelu_new; otherwise the part after "gated-" names it.
  const std::string ff = c.StringOr("feed_forward_proj", "relu");
  s.gated = ff.rfind("gated-", 0) == 0;
  const std::string act = ff == "gated-gelu" ? "gelu_new" : (s.gated ? ff.substr(6) : ff);
  ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(act));
  if (s.vocab <= 0 || s.d <= 0 || s.d_kv <= 0 || s.d_ff <= 0 || s.heads <= 0 || s.enc_layers <= 0 || s.dec_layers <= 0 ||
      s.enc_layers > 1000 || s.dec_layers > 1000 || s.buckets <= 1 || s.max_distance <= 1) {
    return Corrupt(c.label() + ": inconsistent T5 sizes");
  }
  return s;
}

// HF's _relative_position_bucket, in float32 like the reference.
int64_t RelativeBucket(int64_t relative, bool bidirectional, int64_t buckets, int64_t max_distance) {
  int64_t ret = 0, n;
  if (bidirectional) {
    buckets /= 2;
    if (relative > 0) ret += buckets;
    n = relative < 0 ? -relative : relative;
  } else {
    n = relative < 0 ? -relative : 0;
  }
  const int64_t max_exact = buckets / 2;
  if (n < max_exact) return ret + n;
  const float scaled = std::log(static_cast<float>(n) / static_cast<float>(max_exact)) /
                       static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact))) *
                       static_cast<float>(buckets - max_exact);
  const int64_t large = std::min<int64_t>(max_exact + static_cast<int64_t>(scaled), buckets - 1);
  return ret + large;
}

struct FeedForward {
  LinearLayer wi, wi_1, wo;  // wi = wi_0 when gated
  Tensor ln;
};

struct Block {
  Tensor self_ln, cross_ln;
  LinearLayer self_qkv, self_o, cross_q, cross_kv, cross_o;
  FeedForward ff;
};

class T5 final : public Model, public TextGenerator {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    auto m = std::unique_ptr<T5>(new T5());
    ACCEL_ASSIGN_OR_RETURN(m->s_, SpecFromConfig(ctx.config));
    const T5Spec& s = m->s_;
    const int64_t d = s.d, inner = s.inner();
    ACCEL_ASSIGN_OR_RETURN(m->shared_, ctx.F32("shared.weight", {s.vocab, d}));
    for (int stack = 0; stack < 2; ++stack) {
      const bool decoder = stack == 1;
      const std::string root = decoder ? "decoder." : "encoder.";
      const int64_t n = decoder ? s.dec_layers : s.enc_layers;
      std::vector<Block>& blocks = decoder ? m->decoder_ : m->encoder_;
      for (int64_t i = 0; i < n; ++i) {
        const std::string p = root + "block." + std::to_string(i) + ".layer.";
        Block b;
        ACCEL_ASSIGN_OR_RETURN(b.self_ln, ctx.F32(p + "0.layer_norm.weight", {d}));
        ACCEL_ASSIGN_OR_RETURN(b.self_qkv, blocks::LoadFusedQkv(ctx, p + "0.SelfAttention.q", p + "0.SelfAttention.k", p + "0.SelfAttention.v", inner, d));
        ACCEL_ASSIGN_OR_RETURN(b.self_o, ctx.Linear(p + "0.SelfAttention.o", d, inner, false));
        if (i == 0) {
          ACCEL_ASSIGN_OR_RETURN(Tensor rel, ctx.F32(p + "0.SelfAttention.relative_attention_bias.weight", {s.buckets, s.heads}));
          (decoder ? m->dec_rel_ : m->enc_rel_) = rel;
        }
        std::string ff = p + "1.";
        if (decoder) {
          ACCEL_ASSIGN_OR_RETURN(b.cross_ln, ctx.F32(p + "1.layer_norm.weight", {d}));
          ACCEL_ASSIGN_OR_RETURN(b.cross_q, ctx.Linear(p + "1.EncDecAttention.q", inner, d, false));
          ACCEL_ASSIGN_OR_RETURN(b.cross_kv, FusedKv(ctx, p + "1.EncDecAttention.k", p + "1.EncDecAttention.v", inner, d));
          ACCEL_ASSIGN_OR_RETURN(b.cross_o, ctx.Linear(p + "1.EncDecAttention.o", d, inner, false));
          ff = p + "2.";
        }
        ACCEL_ASSIGN_OR_RETURN(b.ff.ln, ctx.F32(ff + "layer_norm.weight", {d}));
        if (s.gated) {
          ACCEL_ASSIGN_OR_RETURN(b.ff.wi, ctx.Linear(ff + "DenseReluDense.wi_0", s.d_ff, d, false));
          ACCEL_ASSIGN_OR_RETURN(b.ff.wi_1, ctx.Linear(ff + "DenseReluDense.wi_1", s.d_ff, d, false));
        } else {
          ACCEL_ASSIGN_OR_RETURN(b.ff.wi, ctx.Linear(ff + "DenseReluDense.wi", s.d_ff, d, false));
        }
        ACCEL_ASSIGN_OR_RETURN(b.ff.wo, ctx.Linear(ff + "DenseReluDense.wo", d, s.d_ff, false));
        blocks.push_back(std::move(b));
      }
      ACCEL_ASSIGN_OR_RETURN((decoder ? m->dec_ln_ : m->enc_ln_), ctx.F32(root + "final_layer_norm.weight", {d}));
    }
    // Tied heads read the shared embedding (T5 v1.0 also rescales by d_model^-0.5 first).
    if (s.tied) {
      ACCEL_ASSIGN_OR_RETURN(m->head_, ctx.Linear("shared", s.vocab, d, false));
      if (ctx.weights.Has("lm_head.weight")) ACCEL_RETURN_IF_ERROR(ctx.weights.Get("lm_head.weight", {s.vocab, d}).status());
    } else {
      ACCEL_ASSIGN_OR_RETURN(m->head_, ctx.Linear("lm_head", s.vocab, d, false));
    }
    // Checkpoints saved by HF may also carry the tied copies; they equal shared.weight.
    for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
      if (ctx.weights.Has(alias)) ACCEL_RETURN_IF_ERROR(ctx.weights.Get(alias, {s.vocab, d}).status());
    }
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return s_.architecture; }
  std::vector<std::string> required_inputs() const override { return {"input_ids", "decoder_input_ids"}; }
  std::vector<std::string> optional_inputs() const override { return {"attention_mask"}; }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const Tensor& ids = *blocks::FindInput(inputs, "input_ids");
    const Tensor* mask = blocks::FindInput(inputs, "attention_mask");
    ACCEL_ASSIGN_OR_RETURN(Tensor enc, Encode(ex, ids, mask));
    const Tensor& dec_ids = *blocks::FindInput(inputs, "decoder_input_ids");
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(dec_ids, "decoder_input_ids"));
    if (dec_ids.dim(0) != ids.dim(0)) return InvalidArgument("decoder_input_ids batch differs from input_ids batch");
    ACCEL_ASSIGN_OR_RETURN(State st, Start(ex, enc, mask, dec_ids.dim(1)));
    ACCEL_ASSIGN_OR_RETURN(Tensor logits, Step(ex, st, dec_ids));
    TensorMap out;
    ACCEL_ASSIGN_OR_RETURN(out["logits"], ex.Download(logits));
    ACCEL_ASSIGN_OR_RETURN(out["encoder_last_hidden_state"], ex.Download(enc));
    return out;
  }

  Result<Tensor> GenerateGreedy(Exec& ex, const GenerateRequest& r) override {
    const Tensor* ids = blocks::FindInput(r.inputs, "input_ids");
    if (!ids) return InvalidArgument("T5 generation needs input_ids");
    const Tensor* mask = blocks::FindInput(r.inputs, "attention_mask");
    ACCEL_ASSIGN_OR_RETURN(Tensor enc, Encode(ex, *ids, mask));
    Tensor prompt;
    if (const Tensor* given = blocks::FindInput(r.inputs, "decoder_input_ids")) {
      prompt = *given;
    } else {
      ACCEL_ASSIGN_OR_RETURN(prompt, Tensor::Zeros(DType::kI64, {ids->dim(0), 1}));
      for (int64_t b = 0; b < ids->dim(0); ++b) prompt.data<int64_t>()[b] = s_.decoder_start;
    }
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(prompt, "decoder_input_ids"));
    if (prompt.dim(0) != ids->dim(0)) return InvalidArgument("decoder_input_ids batch differs from input_ids batch");
    ACCEL_ASSIGN_OR_RETURN(State st, Start(ex, enc, mask, prompt.dim(1) + r.max_new_tokens));
    return seq2seq::GreedyLoop(prompt, r, [&](const Tensor& step_ids) -> Result<Tensor> {
      ACCEL_ASSIGN_OR_RETURN(Tensor logits, Step(ex, st, step_ids));
      return ex.Download(logits);
    });
  }

 private:
  struct State {
    std::vector<seq2seq::KvCache> self;
    std::vector<Tensor> cross_kv;
    Tensor enc_mask;  // undefined when the encoder input had no attention_mask
  };

  static Result<LinearLayer> FusedKv(ModelLoadContext& ctx, const std::string& k, const std::string& v, int64_t inner, int64_t d) {
    ACCEL_ASSIGN_OR_RETURN(Tensor w, Tensor::Zeros(DType::kF32, {2 * inner, d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor kw, ctx.F32(k + ".weight", {inner, d}));
    ACCEL_ASSIGN_OR_RETURN(Tensor vw, ctx.F32(v + ".weight", {inner, d}));
    std::copy_n(kw.data<float>(), inner * d, w.data<float>());
    std::copy_n(vw.data<float>(), inner * d, w.data<float>() + inner * d);
    LinearLayer l;
    ACCEL_ASSIGN_OR_RETURN(l.weight, ctx.backend.PackLinear(w, ctx.compute));
    return l;
  }

  Result<Tensor> Rms(Exec& ex, const Tensor& x, const Tensor& w) {
    return ex.RmsNorm(x, w, s_.eps);
  }

  // bias[h, i, j] = table[bucket(key j - query (offset + i)), h], computed on the host (a table
  // lookup per score) and uploaded once per pass.
  Result<Tensor> PositionBias(Exec& ex, const Tensor& table, int64_t q_len, int64_t offset, int64_t kv_len, bool bidirectional) {
    ACCEL_ASSIGN_OR_RETURN(Tensor bias, Tensor::Zeros(DType::kF32, {s_.heads, q_len, kv_len}));
    const float* t = table.data<float>();
    for (int64_t i = 0; i < q_len; ++i) {
      for (int64_t j = 0; j < kv_len; ++j) {
        const int64_t bucket = RelativeBucket(j - (offset + i), bidirectional, s_.buckets, s_.max_distance);
        for (int64_t h = 0; h < s_.heads; ++h) bias.data<float>()[(h * q_len + i) * kv_len + j] = t[bucket * s_.heads + h];
      }
    }
    return ex.Upload(bias);
  }

  Result<Tensor> FeedForwardBlock(Exec& ex, const FeedForward& ff, const Tensor& x) {
    ACCEL_ASSIGN_OR_RETURN(Tensor h, Rms(ex, x, ff.ln));
    ACCEL_ASSIGN_OR_RETURN(Tensor a, ex.Linear(h, ff.wi, s_.act));
    if (s_.gated) {
      ACCEL_ASSIGN_OR_RETURN(Tensor g, ex.Linear(h, ff.wi_1));
      ACCEL_RETURN_IF_ERROR(ex.MulInto(a, g, a));
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor o, ex.Linear(a, ff.wo));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(o, x, o));
    return o;
  }

  AttentionParams Params() const {
    AttentionParams p;
    p.num_heads = p.num_kv_heads = static_cast<int>(s_.heads);
    p.head_dim = static_cast<int>(s_.d_kv);
    p.scale = 1.0f;  // T5 folds the 1/sqrt(d) scaling into its initialisation
    return p;
  }

  Result<Tensor> Encode(Exec& ex, const Tensor& ids, const Tensor* mask) {
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "input_ids"));
    if (mask && mask->shape() != ids.shape()) return InvalidArgument("attention_mask shape differs from input_ids");
    const int64_t seq = ids.dim(1), inner = s_.inner();
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(shared_, ids));
    ACCEL_ASSIGN_OR_RETURN(Tensor bias, PositionBias(ex, enc_rel_, seq, 0, seq, true));
    AttentionParams p = Params();
    p.key_padding_mask = mask;
    for (const Block& b : encoder_) {
      ACCEL_ASSIGN_OR_RETURN(Tensor h, Rms(ex, x, b.self_ln));
      ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(h, b.self_qkv));
      ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.AttentionWithBias(qkv.Columns(0, inner), qkv.Columns(inner, 2 * inner),
                                                              qkv.Columns(2 * inner, 3 * inner), p, bias));
      ACCEL_ASSIGN_OR_RETURN(Tensor o, ex.Linear(ctx, b.self_o));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(o, x, o));
      ACCEL_ASSIGN_OR_RETURN(x, FeedForwardBlock(ex, b.ff, o));
    }
    return Rms(ex, x, enc_ln_);
  }

  Result<State> Start(Exec& ex, const Tensor& enc, const Tensor* mask, int64_t capacity) {
    State st;
    if (mask) { ACCEL_ASSIGN_OR_RETURN(st.enc_mask, ex.Upload(*mask)); }
    for (const Block& b : decoder_) {
      ACCEL_ASSIGN_OR_RETURN(auto cache, seq2seq::NewKvCache(ex, enc.dim(0), capacity, s_.inner()));
      st.self.push_back(std::move(cache));
      ACCEL_ASSIGN_OR_RETURN(Tensor kv, ex.Linear(enc, b.cross_kv));
      st.cross_kv.push_back(kv);
    }
    return st;
  }

  Result<Tensor> Step(Exec& ex, State& st, const Tensor& ids) {
    ACCEL_RETURN_IF_ERROR(blocks::CheckIds(ids, "decoder_input_ids"));
    const int64_t t = ids.dim(1), offset = st.self.empty() ? 0 : st.self[0].length;
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(shared_, ids));
    ACCEL_ASSIGN_OR_RETURN(Tensor bias, PositionBias(ex, dec_rel_, t, offset, offset + t, false));
    const AttentionParams self_p = Params();
    AttentionParams cross_p = Params();
    cross_p.key_padding_mask = st.enc_mask.defined() ? &st.enc_mask : nullptr;
    for (size_t i = 0; i < decoder_.size(); ++i) {
      const Block& b = decoder_[i];
      ACCEL_ASSIGN_OR_RETURN(Tensor h, Rms(ex, x, b.self_ln));
      ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(h, b.self_qkv));
      ACCEL_ASSIGN_OR_RETURN(Tensor sa, seq2seq::CachedSelfAttention(ex, st.self[i], qkv, self_p, &bias));
      ACCEL_ASSIGN_OR_RETURN(Tensor so, ex.Linear(sa, b.self_o));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(so, x, so));
      ACCEL_ASSIGN_OR_RETURN(Tensor h2, Rms(ex, so, b.cross_ln));
      ACCEL_ASSIGN_OR_RETURN(Tensor q, ex.Linear(h2, b.cross_q));
      ACCEL_ASSIGN_OR_RETURN(Tensor ca, seq2seq::CrossAttention(ex, q, st.cross_kv[i], cross_p));
      ACCEL_ASSIGN_OR_RETURN(Tensor co, ex.Linear(ca, b.cross_o));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(co, so, co));
      ACCEL_ASSIGN_OR_RETURN(x, FeedForwardBlock(ex, b.ff, co));
    }
    ACCEL_ASSIGN_OR_RETURN(x, Rms(ex, x, dec_ln_));
    if (s_.tied) {
      ACCEL_RETURN_IF_ERROR(ex.Scale(x, 1.0f / std::sqrt(static_cast<float>(s_.d))));
    }
    return ex.Linear(x, head_);
  }

  T5Spec s_;
  Tensor shared_, enc_rel_, dec_rel_, enc_ln_, dec_ln_;
  std::vector<Block> encoder_, decoder_;
  LinearLayer head_;
};

}  // namespace

Result<std::unique_ptr<Model>> LoadT5(ModelLoadContext& ctx) { return T5::Load(ctx); }

}  // namespace accel
