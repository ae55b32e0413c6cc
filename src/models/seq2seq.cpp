#include "models/seq2seq.h"

#include <algorithm>
#include <cstring>

#include "models/blocks.h"

namespace accel::seq2seq {

Result<KvCache> NewKvCache(Exec& ex, int64_t batch, int64_t capacity, int64_t width) {
  KvCache c;
  ACCEL_ASSIGN_OR_RETURN(c.k, ex.AllocPersistent({batch, capacity, width}));
  ACCEL_ASSIGN_OR_RETURN(c.v, ex.AllocPersistent({batch, capacity, width}));
  c.capacity = capacity;
  return c;
}

Result<Tensor> CachedSelfAttention(Exec& ex, KvCache& cache, const Tensor& qkv, const AttentionParams& p, const Tensor* bias) {
  const int64_t batch = qkv.dim(0), t = qkv.dim(1), width = qkv.dim(2) / 3;
  if (cache.length + t > cache.capacity) {
    return InvalidArgument("decoder sequence of " + std::to_string(cache.length + t) + " tokens exceeds the cache of " +
                           std::to_string(cache.capacity));
  }
  const int64_t kv_len = cache.length + t;
  AttentionParams q = p;
  q.causal = true;
  q.query_offset = cache.length;
  ACCEL_ASSIGN_OR_RETURN(Tensor out, ex.Alloc({batch, t, width}));
  // One call per batch item: the filled cache rows of an item are contiguous, items are
  // `capacity` apart.
  for (int64_t b = 0; b < batch; ++b) {
    const Tensor step = qkv.SliceRows(b, b + 1);
    ACCEL_ASSIGN_OR_RETURN(Tensor k_rows, cache.k.SliceRows(b, b + 1).Reshape({cache.capacity, width}));
    ACCEL_ASSIGN_OR_RETURN(Tensor v_rows, cache.v.SliceRows(b, b + 1).Reshape({cache.capacity, width}));
    ACCEL_ASSIGN_OR_RETURN(Tensor step_k, step.Columns(width, 2 * width).Reshape({t, width}));
    ACCEL_ASSIGN_OR_RETURN(Tensor step_v, step.Columns(2 * width, 3 * width).Reshape({t, width}));
    Tensor k_new = k_rows.SliceRows(cache.length, kv_len), v_new = v_rows.SliceRows(cache.length, kv_len);
    ACCEL_RETURN_IF_ERROR(ex.Copy(step_k, k_new));
    ACCEL_RETURN_IF_ERROR(ex.Copy(step_v, v_new));
    ACCEL_ASSIGN_OR_RETURN(Tensor kb, k_rows.SliceRows(0, kv_len).Reshape({1, kv_len, width}));
    ACCEL_ASSIGN_OR_RETURN(Tensor vb, v_rows.SliceRows(0, kv_len).Reshape({1, kv_len, width}));
    const Tensor qb = step.Columns(0, width);
    ACCEL_ASSIGN_OR_RETURN(Tensor ob, bias ? ex.AttentionWithBias(qb, kb, vb, q, *bias) : ex.Attention(qb, kb, vb, q));
    Tensor dst = out.SliceRows(b, b + 1);
    ACCEL_RETURN_IF_ERROR(ex.Copy(ob, dst));
  }
  cache.length = kv_len;
  return out;
}

Result<Tensor> CrossAttention(Exec& ex, const Tensor& q, const Tensor& kv, const AttentionParams& p) {
  const int64_t batch = q.dim(0), width = q.dim(2);
  if (kv.dim(0) != batch || kv.dim(2) != 2 * width) return InvalidArgument("cross-attention keys do not match the queries");
  return ex.Attention(q, kv.Columns(0, width), kv.Columns(width, 2 * width), p);
}

Result<Tensor> GreedyLoop(const Tensor& prompt, const GenerateRequest& request, const StepFn& step) {
  ACCEL_RETURN_IF_ERROR(blocks::CheckIds(prompt, "decoder prompt"));
  if (request.max_new_tokens < 0 || request.max_new_tokens > 1 << 20) return InvalidArgument("max_new_tokens out of range");
  const int64_t batch = prompt.dim(0), p = prompt.dim(1);
  std::vector<std::vector<int64_t>> rows(batch);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < p; ++i) rows[b].push_back(blocks::IdAt(prompt, b * p + i));
  }
  std::vector<bool> finished(batch, false);
  auto is_eos = [&](int64_t id) {
    return std::find(request.eos_token_ids.begin(), request.eos_token_ids.end(), id) != request.eos_token_ids.end();
  };
  Tensor feed = prompt;
  std::vector<float> scratch;
  for (int64_t n = 0; n < request.max_new_tokens; ++n) {
    ACCEL_ASSIGN_OR_RETURN(Tensor logits, step(feed));
    const int64_t t = logits.dim(1), vocab = logits.dim(2);
    ACCEL_ASSIGN_OR_RETURN(feed, Tensor::Zeros(DType::kI64, {batch, 1}));
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      const float* last = logits.data<float>() + (b * t + t - 1) * vocab;
      const int64_t next = finished[b] && request.pad_token_id ? *request.pad_token_id
                                                               : GreedyNextToken(request, rows[b], last, vocab, scratch);
      rows[b].push_back(next);
      feed.data<int64_t>()[b] = next;
      if (is_eos(next)) finished[b] = true;
      all_done = all_done && finished[b];
    }
    if (all_done) break;
  }
  const int64_t len = static_cast<int64_t>(rows[0].size());
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kI64, {batch, len}));
  for (int64_t b = 0; b < batch; ++b) std::copy(rows[b].begin(), rows[b].end(), out.data<int64_t>() + b * len);
  return out;
}

}  // namespace accel::seq2seq
