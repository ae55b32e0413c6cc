// The BERT encoder template: BertModel, RobertaModel, XLMRobertaModel, CamembertModel,
// DistilBertModel, ElectraModel, AlbertModel. They differ only in data read from config.json
// (EncoderSpec): weight names, position scheme, factorised embeddings, shared layer groups, pooler.
#include <cstring>
#include <vector>

#include "models/bert.h"

namespace accel {

namespace {

enum class Naming { kBert, kDistilBert, kAlbert };

struct EncoderSpec {
  std::string architecture;
  Naming naming = Naming::kBert;
  int64_t vocab = 0, hidden = 0, embedding = 0, layers = 0, heads = 0, intermediate = 0, max_positions = 0, type_vocab = 0;
  float eps = 1e-12f;
  Activation act = Activation::kGeluErf;
  bool roberta_positions = false;  // positions start after padding_idx and skip pads
  int64_t pad_id = 0;
  bool pooler = false;
  std::string pooler_name;  // "pooler.dense" or "pooler" (ALBERT)
  std::string embed_project;  // Linear E -> H after the embeddings, when E != H
  // ALBERT: num_hidden_groups groups of inner_group_num distinct layers; the others have one
  // group of one layer per hidden layer.
  int64_t groups = 0, inner = 1;
};

// Which distinct layer runs at each step of the forward pass. BERT: layer i. ALBERT: layer i runs
// group int(i / (num_hidden_layers / num_hidden_groups)) (HF's float division), and a group runs
// its inner_group_num layers in order.
std::vector<int64_t> LayerSchedule(const EncoderSpec& s) {
  std::vector<int64_t> order;
  for (int64_t i = 0; i < s.layers; ++i) {
    if (s.naming != Naming::kAlbert) {
      order.push_back(i);
      continue;
    }
    const auto g = static_cast<int64_t>(static_cast<double>(i) / (static_cast<double>(s.layers) / static_cast<double>(s.groups)));
    for (int64_t j = 0; j < s.inner; ++j) order.push_back(g * s.inner + j);
  }
  return order;
}

Result<EncoderSpec> SpecFromConfig(const HfConfig& c) {
  EncoderSpec s;
  const std::string type = c.model_type();
  s.architecture = c.architecture();
  // The keys the sizes came from, for errors that name them.
  std::string hidden_key = "hidden_size", heads_key = "num_attention_heads";
  if (type == "distilbert") {
    hidden_key = c.Has("dim") ? "dim" : "hidden_size";
    heads_key = c.Has("n_heads") ? "n_heads" : "num_attention_heads";
    s.naming = Naming::kDistilBert;
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"dim", "hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"n_layers", "num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"n_heads", "num_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(s.intermediate, c.Int({"hidden_dim", "intermediate_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(c.StringOr("activation", "gelu")));
    if (c.BoolOr("sinusoidal_pos_embds", false)) return Unsupported(c.label() + ": sinusoidal_pos_embds is not supported");
    s.eps = 1e-12f;  // DistilBERT hard-codes it
    if (s.architecture.empty()) s.architecture = "DistilBertModel";
  } else {
    s.naming = type == "albert" ? Naming::kAlbert : Naming::kBert;
    ACCEL_ASSIGN_OR_RETURN(s.hidden, c.Int({"hidden_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.layers, c.Int({"num_hidden_layers"}));
    ACCEL_ASSIGN_OR_RETURN(s.heads, c.Int({"num_attention_heads"}));
    ACCEL_ASSIGN_OR_RETURN(s.intermediate, c.Int({"intermediate_size"}));
    ACCEL_ASSIGN_OR_RETURN(s.act, ActivationFromHf(c.StringOr("hidden_act", "gelu")));
    s.eps = static_cast<float>(c.FloatOr("layer_norm_eps", 1e-12));
    s.type_vocab = c.IntOr("type_vocab_size", 2);
    s.roberta_positions = type == "roberta" || type == "xlm-roberta" || type == "camembert";
    if (c.StringOr("position_embedding_type", "absolute") != "absolute") {
      return Unsupported(c.label() + ": position_embedding_type '" + c.StringOr("position_embedding_type", "") + "'");
    }
    if (s.naming == Naming::kAlbert) {
      s.groups = c.IntOr("num_hidden_groups", 1);
      s.inner = c.IntOr("inner_group_num", 1);
      if (s.groups < 1 || s.inner < 1 || s.inner > 1000) {
        return Corrupt(c.label() + ": " + c.Describe("num_hidden_groups") + " and " + c.Describe("inner_group_num") +
                       " must be positive");
      }
      if (s.layers > 0 && s.groups > s.layers) {
        return c.Contradiction("num_hidden_groups", "is more than", "num_hidden_layers");
      }
      s.embedding = c.IntOr("embedding_size", 128);
      s.embed_project = "encoder.embedding_hidden_mapping_in";
    } else if (type == "electra") {
      s.embedding = c.IntOr("embedding_size", s.hidden);
      if (s.embedding != s.hidden) s.embed_project = "embeddings_project";
    }
  }
  if (s.embedding == 0) s.embedding = s.hidden;
  ACCEL_ASSIGN_OR_RETURN(s.vocab, c.Int({"vocab_size"}));
  ACCEL_ASSIGN_OR_RETURN(s.max_positions, c.Int({"max_position_embeddings"}));
  s.pad_id = c.IntOr("pad_token_id", 0);
  if (s.hidden > 0 && s.heads > 0 && s.hidden % s.heads != 0) {
    return c.Contradiction(hidden_key, "is not divisible by", heads_key);
  }
  if (s.hidden <= 0 || s.heads <= 0 || s.layers <= 0 || s.layers > 1000 || s.intermediate <= 0 ||
      s.vocab <= 0 || s.max_positions <= 0 || s.embedding <= 0) {
    return Corrupt(c.label() + ": inconsistent sizes (hidden " + std::to_string(s.hidden) + ", heads " +
                   std::to_string(s.heads) + ", layers " + std::to_string(s.layers) + ")");
  }
  if (s.naming != Naming::kAlbert) s.groups = s.layers;
  return s;
}

struct EncoderLayer {
  LinearLayer qkv, attn_out, ffn_in, ffn_out;
  Tensor ln1_w, ln1_b, ln2_w, ln2_b;
};

// Concatenates q, k, v ([H, H] each) into one [3H, H] projection: one GEMM instead of three.
Result<LinearLayer> FusedQkv(ModelLoadContext& ctx, const std::string& q, const std::string& k, const std::string& v,
                             int64_t h) {
  ACCEL_ASSIGN_OR_RETURN(Tensor w, Tensor::Zeros(DType::kF32, {3 * h, h}));
  ACCEL_ASSIGN_OR_RETURN(Tensor b, Tensor::Zeros(DType::kF32, {3 * h}));
  const std::string names[3] = {q, k, v};
  for (int i = 0; i < 3; ++i) {
    ACCEL_ASSIGN_OR_RETURN(Tensor wi, ctx.F32(names[i] + ".weight", {h, h}));
    ACCEL_ASSIGN_OR_RETURN(Tensor bi, ctx.F32(names[i] + ".bias", {h}));
    std::memcpy(w.data<float>() + i * h * h, wi.data<float>(), sizeof(float) * h * h);
    std::memcpy(b.data<float>() + i * h, bi.data<float>(), sizeof(float) * h);
  }
  LinearLayer layer;
  ACCEL_ASSIGN_OR_RETURN(layer.weight, ctx.backend.PackLinear(w, ctx.compute));
  layer.bias = std::move(b);
  return layer;
}

Result<EncoderLayer> LoadLayer(ModelLoadContext& ctx, const EncoderSpec& s, const std::string& p) {
  EncoderLayer l;
  const int64_t h = s.hidden, f = s.intermediate;
  std::string q, k, v, o, ln1, fi, fo, ln2;
  switch (s.naming) {
    case Naming::kBert:
      q = p + "attention.self.query", k = p + "attention.self.key", v = p + "attention.self.value";
      o = p + "attention.output.dense", ln1 = p + "attention.output.LayerNorm";
      fi = p + "intermediate.dense", fo = p + "output.dense", ln2 = p + "output.LayerNorm";
      break;
    case Naming::kDistilBert:
      q = p + "attention.q_lin", k = p + "attention.k_lin", v = p + "attention.v_lin", o = p + "attention.out_lin";
      ln1 = p + "sa_layer_norm", fi = p + "ffn.lin1", fo = p + "ffn.lin2", ln2 = p + "output_layer_norm";
      break;
    case Naming::kAlbert:
      q = p + "attention.query", k = p + "attention.key", v = p + "attention.value", o = p + "attention.dense";
      ln1 = p + "attention.LayerNorm", fi = p + "ffn", fo = p + "ffn_output", ln2 = p + "full_layer_layer_norm";
      break;
  }
  ACCEL_ASSIGN_OR_RETURN(l.qkv, FusedQkv(ctx, q, k, v, h));
  ACCEL_ASSIGN_OR_RETURN(l.attn_out, ctx.Linear(o, h, h));
  ACCEL_ASSIGN_OR_RETURN(l.ffn_in, ctx.Linear(fi, f, h));
  ACCEL_ASSIGN_OR_RETURN(l.ffn_out, ctx.Linear(fo, h, f));
  ACCEL_ASSIGN_OR_RETURN(l.ln1_w, ctx.F32(ln1 + ".weight", {h}));
  ACCEL_ASSIGN_OR_RETURN(l.ln1_b, ctx.F32(ln1 + ".bias", {h}));
  ACCEL_ASSIGN_OR_RETURN(l.ln2_w, ctx.F32(ln2 + ".weight", {h}));
  ACCEL_ASSIGN_OR_RETURN(l.ln2_b, ctx.F32(ln2 + ".bias", {h}));
  return l;
}

class BertEncoder final : public Model {
 public:
  static Result<std::unique_ptr<Model>> Load(ModelLoadContext& ctx) {
    ACCEL_ASSIGN_OR_RETURN(EncoderSpec s, SpecFromConfig(ctx.config));
    // Task checkpoints (BertForMaskedLM, ...) nest this base model under HF's base_model_prefix.
    std::string base_prefix = ctx.config.model_type();
    if (base_prefix == "xlm-roberta" || base_prefix == "camembert") base_prefix = "roberta";
    ctx.weights.StripBasePrefix(base_prefix);
    auto m = std::unique_ptr<BertEncoder>(new BertEncoder());
    m->spec_ = s;
    m->schedule_ = LayerSchedule(s);
    const int64_t e = s.embedding;
    ACCEL_ASSIGN_OR_RETURN(m->word_, ctx.F32("embeddings.word_embeddings.weight", {s.vocab, e}));
    ACCEL_ASSIGN_OR_RETURN(m->position_, ctx.F32("embeddings.position_embeddings.weight", {s.max_positions, e}));
    if (s.naming != Naming::kDistilBert) {
      ACCEL_ASSIGN_OR_RETURN(m->token_type_, ctx.F32("embeddings.token_type_embeddings.weight", {s.type_vocab, e}));
    }
    ACCEL_ASSIGN_OR_RETURN(m->emb_ln_w_, ctx.F32("embeddings.LayerNorm.weight", {e}));
    ACCEL_ASSIGN_OR_RETURN(m->emb_ln_b_, ctx.F32("embeddings.LayerNorm.bias", {e}));
    if (!s.embed_project.empty()) {
      ACCEL_ASSIGN_OR_RETURN(m->project_, ctx.Linear(s.embed_project, s.hidden, e));
    }
    const int64_t distinct_layers = s.groups * s.inner;
    for (int64_t i = 0; i < distinct_layers; ++i) {
      std::string prefix = s.naming == Naming::kBert         ? "encoder.layer." + std::to_string(i) + "."
                           : s.naming == Naming::kDistilBert ? "transformer.layer." + std::to_string(i) + "."
                                                             : "encoder.albert_layer_groups." + std::to_string(i / s.inner) +
                                                                   ".albert_layers." + std::to_string(i % s.inner) + ".";
      ACCEL_ASSIGN_OR_RETURN(EncoderLayer layer, LoadLayer(ctx, s, prefix));
      m->layers_.push_back(std::move(layer));
    }
    const std::string pooler = s.naming == Naming::kAlbert ? "pooler" : "pooler.dense";
    if (s.naming != Naming::kDistilBert && ctx.weights.Has(pooler + ".weight")) {
      m->spec_.pooler = true;
      ACCEL_ASSIGN_OR_RETURN(m->pooler_, ctx.Linear(pooler, s.hidden, s.hidden));
    }
    return std::unique_ptr<Model>(std::move(m));
  }

  const std::string& architecture() const override { return spec_.architecture; }
  std::vector<std::string> required_inputs() const override { return {"input_ids"}; }
  std::vector<std::string> optional_inputs() const override {
    if (spec_.naming == Naming::kDistilBert) return {"attention_mask"};
    return {"attention_mask", "token_type_ids"};
  }

  Result<TensorMap> Forward(Exec& ex, const TensorMap& inputs) override {
    const EncoderSpec& s = spec_;
    auto ids_it = inputs.find("input_ids");
    if (ids_it == inputs.end()) return InvalidArgument("missing input 'input_ids'");
    const Tensor& ids = ids_it->second;
    if (ids.rank() != 2 || (ids.dtype() != DType::kI64 && ids.dtype() != DType::kI32)) {
      return InvalidArgument("input_ids must be an integer [batch, seq] tensor, got " + ShapeToString(ids.shape()));
    }
    const int64_t batch = ids.dim(0), seq = ids.dim(1);
    if (seq > s.max_positions - (s.roberta_positions ? s.pad_id + 1 : 0)) {
      return InvalidArgument("sequence of " + std::to_string(seq) + " tokens exceeds max_position_embeddings " +
                             std::to_string(s.max_positions));
    }
    const Tensor* mask = nullptr;
    if (auto it = inputs.find("attention_mask"); it != inputs.end()) {
      if (it->second.shape() != ids.shape()) return InvalidArgument("attention_mask shape " + ShapeToString(it->second.shape()) + " != input_ids shape " + ShapeToString(ids.shape()));
      mask = &it->second;
    }
    const Tensor* types = nullptr;
    if (auto it = inputs.find("token_type_ids"); it != inputs.end()) {
      if (it->second.shape() != ids.shape()) return InvalidArgument("token_type_ids shape " + ShapeToString(it->second.shape()) + " != input_ids shape " + ShapeToString(ids.shape()));
      types = &it->second;
    }

    // Embeddings: word + position (+ token type), LayerNorm, optional projection to hidden.
    ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(word_, ids));
    ACCEL_ASSIGN_OR_RETURN(Tensor pos_ids, Tensor::Zeros(DType::kI64, {batch, seq}));
    for (int64_t b = 0; b < batch; ++b) {
      int64_t running = 0;
      for (int64_t t = 0; t < seq; ++t) {
        int64_t& p = pos_ids.data<int64_t>()[b * seq + t];
        if (s.roberta_positions) {
          int64_t id = ids.dtype() == DType::kI64 ? ids.data<int64_t>()[b * seq + t] : ids.data<int32_t>()[b * seq + t];
          bool real = id != s.pad_id;
          running += real;
          p = real ? running + s.pad_id : s.pad_id;
        } else {
          p = t;
        }
      }
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor pos, ex.Embedding(position_, pos_ids));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(x, pos, x));
    if (token_type_.defined()) {
      Tensor zero_types;
      if (!types) {
        ACCEL_ASSIGN_OR_RETURN(zero_types, Tensor::Zeros(DType::kI64, {batch, seq}));
        types = &zero_types;
      }
      ACCEL_ASSIGN_OR_RETURN(Tensor tt, ex.Embedding(token_type_, *types));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(x, tt, x));
    }
    ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(x, emb_ln_w_, &emb_ln_b_, s.eps));
    if (!s.embed_project.empty()) {
      ACCEL_ASSIGN_OR_RETURN(x, ex.Linear(x, project_));
    }

    AttentionParams ap;
    ap.num_heads = ap.num_kv_heads = static_cast<int>(s.heads);
    ap.head_dim = static_cast<int>(s.hidden / s.heads);
    ap.scale = 1.0f / std::sqrt(static_cast<float>(ap.head_dim));
    Tensor device_mask;
    if (mask) {
      ACCEL_ASSIGN_OR_RETURN(device_mask, ex.Upload(*mask));
      ap.key_padding_mask = &device_mask;
    }
    const int64_t h = s.hidden;
    for (int64_t index : schedule_) {
      const EncoderLayer& l = layers_[static_cast<size_t>(index)];
      ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(x, l.qkv));
      ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.Attention(qkv.Columns(0, h), qkv.Columns(h, 2 * h), qkv.Columns(2 * h, 3 * h), ap));
      ACCEL_ASSIGN_OR_RETURN(Tensor attn, ex.Linear(ctx, l.attn_out));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(attn, x, attn));
      ACCEL_ASSIGN_OR_RETURN(Tensor h1, ex.LayerNorm(attn, l.ln1_w, &l.ln1_b, s.eps));
      ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(h1, l.ffn_in, s.act));
      ACCEL_ASSIGN_OR_RETURN(Tensor out, ex.Linear(inner, l.ffn_out));
      ACCEL_RETURN_IF_ERROR(ex.AddInto(out, h1, out));
      ACCEL_ASSIGN_OR_RETURN(x, ex.LayerNorm(out, l.ln2_w, &l.ln2_b, s.eps));
    }

    TensorMap outputs;
    ACCEL_ASSIGN_OR_RETURN(outputs["last_hidden_state"], ex.Download(x));
    if (s.pooler) {
      // The first token of every sequence: a strided view of x, made dense for the pooler.
      ACCEL_ASSIGN_OR_RETURN(Tensor per_item, x.Reshape({batch, seq * h}));
      ACCEL_ASSIGN_OR_RETURN(Tensor first, ex.Alloc({batch, h}));
      ACCEL_RETURN_IF_ERROR(ex.Copy(per_item.Columns(0, h), first));
      ACCEL_ASSIGN_OR_RETURN(Tensor pooled, ex.Linear(first, pooler_, Activation::kTanh));
      ACCEL_ASSIGN_OR_RETURN(outputs["pooler_output"], ex.Download(pooled));
    }
    return outputs;
  }

 private:
  EncoderSpec spec_;
  Tensor word_, position_, token_type_, emb_ln_w_, emb_ln_b_;
  LinearLayer project_, pooler_;
  std::vector<EncoderLayer> layers_;
  std::vector<int64_t> schedule_;  // LayerSchedule(spec_)
};

}  // namespace

Result<std::unique_ptr<Model>> LoadBertEncoder(ModelLoadContext& ctx) { return BertEncoder::Load(ctx); }

}  // namespace accel
