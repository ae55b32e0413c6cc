#include "models/decoder/causal_lm_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace accel::decoder {

namespace {

int64_t IdAt(const Tensor& ids, size_t i) {
  return ids.dtype() == DType::kI64 ? ids.data<int64_t>()[i] : ids.data<int32_t>()[i];
}

Status CheckIds(const Tensor& ids, const char* what) {
  if (ids.rank() != 2 || (ids.dtype() != DType::kI64 && ids.dtype() != DType::kI32) || ids.dim(0) <= 0 || ids.dim(1) <= 0) {
    return InvalidArgument(std::string(what) + " must be a non-empty integer [batch, seq] tensor, got " +
                           ShapeToString(ids.shape()));
  }
  return Status::Ok();
}

// The attention mask as one byte per token; absent = all real.
Result<std::vector<uint8_t>> MaskBytes(const TensorMap& inputs, const std::string& name, const Tensor& ids) {
  std::vector<uint8_t> mask(ids.numel(), 1);
  auto it = inputs.find(name);
  if (it == inputs.end()) return mask;
  const Tensor& m = it->second;
  if (m.shape() != ids.shape()) {
    return InvalidArgument(name + " shape " + ShapeToString(m.shape()) + " != input_ids shape " + ShapeToString(ids.shape()));
  }
  for (size_t i = 0; i < mask.size(); ++i) {
    switch (m.dtype()) {
      case DType::kI64: mask[i] = m.data<int64_t>()[i] != 0; break;
      case DType::kI32: mask[i] = m.data<int32_t>()[i] != 0; break;
      case DType::kF32: mask[i] = m.data<float>()[i] != 0.0f; break;
      case DType::kBool:
      case DType::kU8: mask[i] = m.data<uint8_t>()[i] != 0; break;
      default: return InvalidArgument(name + " has unsupported dtype " + std::string(Name(m.dtype())));
    }
  }
  return mask;
}

}  // namespace

DecoderModel::DecoderModel(DecoderSpec spec, DecoderWeights weights) : spec_(std::move(spec)), w_(std::move(weights)) {}

Result<std::unique_ptr<KvCache>> DecoderModel::NewCache(Exec& ex, int64_t batch, int64_t capacity, DType kv_dtype) {
  if (capacity > spec_.max_positions) {
    return InvalidArgument(std::to_string(capacity) + " tokens exceed the model's context of " +
                           std::to_string(spec_.max_positions));
  }
  return KvCache::Create(ex, spec_.layers, batch, capacity, spec_.kv_heads * spec_.head_dim, kv_dtype, spec_.head_dim);
}

Result<Tensor> DecoderModel::Norm(Exec& ex, const Tensor& x, const NormWeights& w) {
  if (spec_.norm == NormKind::kRms) return ex.RmsNorm(x, w.weight, spec_.eps);
  return ex.LayerNorm(x, w.weight, w.bias.defined() ? &w.bias : nullptr, spec_.eps);
}

Result<Tensor> DecoderModel::Attention(Exec& ex, KvCache& cache, int64_t layer, const Tensor& h, const StepInputs& in) {
  const DecoderLayerWeights& l = w_.layers[static_cast<size_t>(layer)];
  const int64_t d = spec_.head_dim, qw = spec_.heads * d, kw = spec_.kv_heads * d;
  // Keys reach slots [0, span); this step's queries are its last n slots (per row, each row's
  // own last slot: the cache's mask hides what lies past a shorter row).
  const int64_t batch = h.dim(0), n = h.dim(1), span = cache.span();
  ACCEL_ASSIGN_OR_RETURN(Tensor qkv, ex.Linear(h, l.qkv));
  ACCEL_ASSIGN_OR_RETURN(Tensor rows, qkv.Reshape({batch * n, qw + 2 * kw}));
  Tensor q = rows.Columns(0, qw), k = rows.Columns(qw, qw + kw), v = rows.Columns(qw + kw, qw + 2 * kw);
  if (spec_.qk_norm) {
    // Per-head RMSNorm of q and k (Qwen3): a head-wide gamma normalises each head on its own.
    ACCEL_RETURN_IF_ERROR(ex.RmsNormInto(q, l.q_norm, spec_.eps, q));
    ACCEL_RETURN_IF_ERROR(ex.RmsNormInto(k, l.k_norm, spec_.eps, k));
  }
  if (spec_.positions == PositionKind::kRope) {
    const std::vector<float> inv_freq = RopeInvFreq(spec_.rope, span);
    RopeParams rp;
    rp.head_dim = static_cast<int>(d);
    rp.rotary_dim = static_cast<int>(spec_.rope.rotary_dim);
    rp.interleaved = spec_.rope.interleaved;
    rp.inv_freq = inv_freq;
    // q's heads and then k's heads are adjacent in each row: one call rotates both, computing
    // each position's angles once.
    rp.num_heads = static_cast<int>(spec_.heads + spec_.kv_heads);
    Tensor qk = rows.Columns(0, qw + kw);
    ACCEL_RETURN_IF_ERROR(ex.Rope(qk, in.positions, rp));
  }
  // Append this step's keys and values: row b*n+i goes to slot step_start(b)+i of batch row b
  // (quantized on the way into a q8_0 / q4_0 cache).
  ACCEL_ASSIGN_OR_RETURN(Tensor keys, cache.keys(layer).Reshape({batch * cache.capacity(), kw}));
  ACCEL_ASSIGN_OR_RETURN(Tensor values, cache.values(layer).Reshape({batch * cache.capacity(), kw}));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t slot = b * cache.capacity() + cache.step_start(b);
    Tensor k_dst = keys.SliceRows(slot, slot + n), v_dst = values.SliceRows(slot, slot + n);
    ACCEL_RETURN_IF_ERROR(ex.StoreRows(k.SliceRows(b * n, (b + 1) * n), k_dst));
    ACCEL_RETURN_IF_ERROR(ex.StoreRows(v.SliceRows(b * n, (b + 1) * n), v_dst));
  }
  CachedAttentionArgs a;
  ACCEL_ASSIGN_OR_RETURN(a.q, q.Reshape({batch, n, qw}));
  a.k = cache.keys(layer);
  a.v = cache.values(layer);
  a.kv_len = span;
  a.allowed = in.allowed;
  if (spec_.positions == PositionKind::kAlibi) {
    a.alibi_slopes = w_.alibi_slopes;
    a.key_positions = in.key_positions;
  }
  AttentionParams p;
  p.num_heads = static_cast<int>(spec_.heads);
  p.num_kv_heads = static_cast<int>(spec_.kv_heads);
  p.head_dim = static_cast<int>(d);
  p.scale = spec_.attn_scale > 0 ? spec_.attn_scale : 1.0f / std::sqrt(static_cast<float>(d));
  p.causal = true;
  p.sliding_window = cache.per_row() ? 0 : static_cast<int>(spec_.sliding_window);  // per row: in the mask
  p.query_offset = span - n;
  ACCEL_ASSIGN_OR_RETURN(Tensor ctx, ex.CachedAttention(a, p));
  return ex.Linear(ctx, l.out);
}

Result<Tensor> DecoderModel::Mlp(Exec& ex, const DecoderLayerWeights& l, const Tensor& h) {
  if (!spec_.gated_mlp) {
    ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.Linear(h, l.up, spec_.act));
    return ex.Linear(inner, l.down);
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor gate_up, ex.Linear(h, l.up));
  ACCEL_ASSIGN_OR_RETURN(Tensor inner, ex.GatedActivation(gate_up, spec_.act));
  return ex.Linear(inner, l.down);
}

Result<Tensor> DecoderModel::Embed(Exec& ex, const Tensor& ids) {
  ACCEL_RETURN_IF_ERROR(CheckIds(ids, "input_ids"));
  ACCEL_ASSIGN_OR_RETURN(Tensor x, ex.Embedding(w_.embed, ids));
  if (spec_.embed_scale != 1.0f) ACCEL_RETURN_IF_ERROR(ex.Scale(x, spec_.embed_scale));
  return x;
}

Result<Tensor> DecoderModel::Run(Exec& ex, KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                                 bool all_logits, bool positions_from_mask) {
  ACCEL_ASSIGN_OR_RETURN(Tensor x, Embed(ex, ids));
  return RunEmbedded(ex, cache, std::move(x), mask, all_logits, positions_from_mask);
}

Result<Tensor> DecoderModel::StepEmbeds(Exec& ex, KvCache& cache, const Tensor& embeds, const std::vector<uint8_t>& mask,
                                        bool all_logits, bool positions_from_mask) {
  if (embeds.rank() != 3 || embeds.dim(2) != spec_.hidden || embeds.dtype() != DType::kF32) {
    return InvalidArgument("input embeddings must be f32 [batch, n, " + std::to_string(spec_.hidden) + "], got " +
                           ShapeToString(embeds.shape()));
  }
  return RunEmbedded(ex, cache, embeds, mask, all_logits, positions_from_mask);
}

Result<Tensor> DecoderModel::RunEmbedded(Exec& ex, KvCache& cache, Tensor x, const std::vector<uint8_t>& mask,
                                         bool all_logits, bool positions_from_mask) {
  const int64_t batch = x.dim(0), n = x.dim(1);
  if (batch != cache.batch()) {
    return InvalidArgument("batch of " + std::to_string(batch) + " rows fed to a KV cache of " + std::to_string(cache.batch()));
  }
  ACCEL_RETURN_IF_ERROR(cache.Append(n, mask, positions_from_mask));
  // Per row, each row's query sits at its own slot while the kernels measure a sliding window
  // from span - 1 for every row; the window then goes into the mask instead (Attention passes 0).
  std::vector<uint8_t> windowed;
  const uint8_t* allowed = cache.mask();
  if (cache.per_row() && spec_.sliding_window > 0) {
    windowed.assign(allowed, allowed + batch * cache.capacity());
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t first_visible = cache.step_start(b) - spec_.sliding_window + 1;
      if (first_visible > 0) std::fill_n(windowed.begin() + b * cache.capacity(), first_visible, uint8_t{0});
    }
    allowed = windowed.data();
  }
  std::vector<int64_t> positions(static_cast<size_t>(batch * n));
  for (int64_t b = 0; b < batch; ++b) {
    std::copy_n(cache.positions(b, cache.step_start(b)), n, positions.begin() + b * n);
  }
  // What every layer reads, on the device once per step.
  StepInputs in;
  ACCEL_ASSIGN_OR_RETURN(in.positions, ex.Upload(Tensor::Wrap(DType::kI64, {batch * n}, positions.data(), nullptr)));
  ACCEL_ASSIGN_OR_RETURN(in.allowed, ex.Upload(Tensor::Wrap(DType::kU8, {batch, cache.capacity()},
                                                            const_cast<uint8_t*>(allowed), nullptr)));
  if (spec_.positions == PositionKind::kAlibi) {
    ACCEL_ASSIGN_OR_RETURN(in.key_positions, ex.Upload(Tensor::Wrap(DType::kF32, {batch, cache.capacity()},
                                                                    const_cast<float*>(cache.key_positions()), nullptr)));
  }

  if (spec_.positions == PositionKind::kLearned) {
    ACCEL_ASSIGN_OR_RETURN(Tensor pos_ids, Tensor::Zeros(DType::kI64, {batch, n}));
    const int64_t rows = w_.position_table.dim(0);
    for (size_t i = 0; i < positions.size(); ++i) {
      const int64_t row = positions[i] + spec_.learned_position_offset;  // padding rows are never read
      if (row < 0 || row >= rows) {
        return InvalidArgument("position " + std::to_string(positions[i]) + " is past the " +
                               std::to_string(rows - spec_.learned_position_offset) + " learned positions");
      }
      pos_ids.data<int64_t>()[i] = row;
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor pos, ex.Embedding(w_.position_table, pos_ids));
    ACCEL_RETURN_IF_ERROR(ex.AddInto(x, pos, x));
  }
  if (spec_.embed_norm) { ACCEL_ASSIGN_OR_RETURN(x, Norm(ex, x, w_.embed_norm)); }

  for (int64_t li = 0; li < spec_.layers; ++li) {
    // Only x (updated in place) outlives the layer: its intermediates reuse the same memory.
    const Arena::Mark layer_start = ex.arena().mark();
    const DecoderLayerWeights& l = w_.layers[static_cast<size_t>(li)];
    ACCEL_ASSIGN_OR_RETURN(Tensor h, Norm(ex, x, l.attn_norm));
    ACCEL_ASSIGN_OR_RETURN(Tensor attn, Attention(ex, cache, li, h, in));
    switch (spec_.residual) {
      case Residual::kSequential: {
        ACCEL_RETURN_IF_ERROR(ex.AddInto(x, attn, x));
        ACCEL_ASSIGN_OR_RETURN(Tensor h2, Norm(ex, x, l.mlp_norm));
        ACCEL_ASSIGN_OR_RETURN(Tensor m, Mlp(ex, l, h2));
        ACCEL_RETURN_IF_ERROR(ex.AddInto(x, m, x));
        break;
      }
      case Residual::kParallel:
      case Residual::kParallelSharedNorm: {
        Tensor h2 = h;
        if (spec_.residual == Residual::kParallel) { ACCEL_ASSIGN_OR_RETURN(h2, Norm(ex, x, l.mlp_norm)); }
        ACCEL_ASSIGN_OR_RETURN(Tensor m, Mlp(ex, l, h2));
        ACCEL_RETURN_IF_ERROR(ex.AddInto(x, attn, x));
        ACCEL_RETURN_IF_ERROR(ex.AddInto(x, m, x));
        break;
      }
    }
    ex.arena().Rewind(layer_start);
  }
  cache.CommitStep();

  Tensor last = x;
  if (!all_logits) {
    // Rows are left-padded, so each row's newest token is its last column: a strided view.
    ACCEL_ASSIGN_OR_RETURN(Tensor per_row, x.Reshape({batch, n * spec_.hidden}));
    ACCEL_ASSIGN_OR_RETURN(last, ex.Alloc({batch, spec_.hidden}));
    ACCEL_RETURN_IF_ERROR(ex.Copy(per_row.Columns((n - 1) * spec_.hidden, n * spec_.hidden), last));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor normed, Norm(ex, last, w_.final_norm));
  ACCEL_ASSIGN_OR_RETURN(Tensor logits, ex.Linear(normed, w_.lm_head));
  return ex.Download(logits);
}

Result<Tensor> DecoderModel::Step(Exec& ex, KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                                  bool all_logits) {
  return Run(ex, cache, ids, mask, all_logits, /*positions_from_mask=*/true);
}

Result<TensorMap> DecoderModel::Forward(Exec& ex, const TensorMap& inputs) {
  auto it = inputs.find("input_ids");
  if (it == inputs.end()) return InvalidArgument("missing input 'input_ids'");
  const Tensor& ids = it->second;
  ACCEL_RETURN_IF_ERROR(CheckIds(ids, "input_ids"));
  ACCEL_ASSIGN_OR_RETURN(std::vector<uint8_t> mask, MaskBytes(inputs, "attention_mask", ids));
  ACCEL_ASSIGN_OR_RETURN(auto cache, NewCache(ex, ids.dim(0), ids.dim(1)));
  ACCEL_ASSIGN_OR_RETURN(Tensor logits, Run(ex, *cache, ids, mask, true, spec_.forward_positions_from_mask));
  TensorMap out;
  ACCEL_ASSIGN_OR_RETURN(out["logits"], logits.Reshape({ids.dim(0), ids.dim(1), spec_.vocab}));
  return out;
}

Result<TensorMap> DecoderModel::ForwardEmbeds(Exec& ex, const Tensor& ids, const Tensor* attention_mask, const Tensor& embeds) {
  ACCEL_RETURN_IF_ERROR(CheckIds(ids, "input_ids"));
  TensorMap masks;
  if (attention_mask) masks["attention_mask"] = *attention_mask;
  ACCEL_ASSIGN_OR_RETURN(std::vector<uint8_t> mask, MaskBytes(masks, "attention_mask", ids));
  if (embeds.rank() != 3 || embeds.dim(0) != ids.dim(0) || embeds.dim(1) != ids.dim(1)) {
    return InvalidArgument("input embeddings " + ShapeToString(embeds.shape()) + " do not match input_ids " + ShapeToString(ids.shape()));
  }
  ACCEL_ASSIGN_OR_RETURN(auto cache, NewCache(ex, ids.dim(0), ids.dim(1)));
  ACCEL_ASSIGN_OR_RETURN(Tensor logits, StepEmbeds(ex, *cache, embeds, mask, true, spec_.forward_positions_from_mask));
  TensorMap out;
  ACCEL_ASSIGN_OR_RETURN(out["logits"], logits.Reshape({ids.dim(0), ids.dim(1), spec_.vocab}));
  return out;
}

Result<Tensor> DecoderModel::GenerateGreedy(Exec& ex, const GenerateRequest& request) {
  return GenerateGreedyFrom(ex, request, nullptr);
}

Result<Tensor> DecoderModel::GenerateGreedyFrom(Exec& ex, const GenerateRequest& request, const Tensor* prompt_embeds) {
  auto it = request.inputs.find("input_ids");
  if (it == request.inputs.end()) return InvalidArgument("generation needs 'input_ids'");
  const Tensor& prompt = it->second;
  ACCEL_RETURN_IF_ERROR(CheckIds(prompt, "input_ids"));
  for (const auto& [name, t] : request.inputs) {
    if (name != "input_ids" && name != "attention_mask") return InvalidArgument("generation input '" + name + "' is not accepted by " + spec_.architecture);
  }
  ACCEL_ASSIGN_OR_RETURN(std::vector<uint8_t> mask, MaskBytes(request.inputs, "attention_mask", prompt));
  const int64_t batch = prompt.dim(0), plen = prompt.dim(1);
  if (request.max_new_tokens < 0) return InvalidArgument("max_new_tokens must be >= 0");
  const int64_t total = plen + request.max_new_tokens;
  if (plen > spec_.max_positions) {
    return InvalidArgument("prompt of " + std::to_string(plen) + " tokens exceeds the context of " + std::to_string(spec_.max_positions));
  }
  if (prompt_embeds && (prompt_embeds->rank() != 3 || prompt_embeds->dim(0) != batch || prompt_embeds->dim(1) != plen)) {
    return InvalidArgument("prompt embeddings " + ShapeToString(prompt_embeds->shape()) + " do not match input_ids " +
                           ShapeToString(prompt.shape()));
  }
  ACCEL_ASSIGN_OR_RETURN(auto cache, NewCache(ex, batch, std::min(total, spec_.max_positions)));
  // HF: with no pad_token_id, finished rows are padded with the (first) EOS id.
  const int64_t pad = request.pad_token_id ? *request.pad_token_id
                      : request.eos_token_ids.empty() ? 0 : request.eos_token_ids.front();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < plen; ++i) out[b].push_back(IdAt(prompt, static_cast<size_t>(b * plen + i)));
  }
  std::vector<bool> done(static_cast<size_t>(batch), false);
  Tensor feed = prompt;
  std::vector<uint8_t> feed_mask = mask;
  std::vector<float> scratch;
  for (int64_t step = 0; step < request.max_new_tokens; ++step) {
    if (cache->length() + feed.dim(1) > cache->capacity()) {
      return InvalidArgument("generation reached the model's context of " + std::to_string(spec_.max_positions) + " tokens");
    }
    Result<Tensor> stepped = step == 0 && prompt_embeds != nullptr
                                 ? StepEmbeds(ex, *cache, *prompt_embeds, feed_mask, false, /*positions_from_mask=*/true)
                                 : Step(ex, *cache, feed, feed_mask);
    ACCEL_ASSIGN_OR_RETURN(Tensor logits, std::move(stepped));
    ex.arena().Reset();
    ACCEL_ASSIGN_OR_RETURN(feed, Tensor::Zeros(DType::kI64, {batch, 1}));
    feed_mask.assign(static_cast<size_t>(batch), 1);
    for (int64_t b = 0; b < batch; ++b) {
      const float* row = logits.data<float>() + b * spec_.vocab;
      const int64_t next = done[b] ? pad : GreedyNextToken(request, out[b], row, spec_.vocab, scratch);
      out[b].push_back(next);
      feed.data<int64_t>()[b] = next;
      if (std::find(request.eos_token_ids.begin(), request.eos_token_ids.end(), next) != request.eos_token_ids.end()) {
        done[b] = true;
      }
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
  }
  const int64_t len = static_cast<int64_t>(out[0].size());
  ACCEL_ASSIGN_OR_RETURN(Tensor result, Tensor::Zeros(DType::kI64, {batch, len}));
  for (int64_t b = 0; b < batch; ++b) std::copy(out[b].begin(), out[b].end(), result.data<int64_t>() + b * len);
  return result;
}

}  // namespace accel::decoder
