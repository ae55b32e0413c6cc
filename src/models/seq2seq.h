#pragma once
// Decoder-side machinery shared by the encoder-decoder models (Whisper, T5): a self-attention
// KV cache that grows by the tokens of each step, cross-attention over keys/values computed
// once from the encoder output, and the greedy loop with HF generate()'s stopping rules.
#include <functional>
#include <vector>

#include "models/model.h"

namespace accel::seq2seq {

// Keys and values of the tokens decoded so far: [batch, capacity, width] each, allocated by the
// backend on its device so they outlive the arena allocations of one step.
struct KvCache {
  Tensor k, v;
  int64_t capacity = 0, length = 0;
};
Result<KvCache> NewKvCache(Exec& ex, int64_t batch, int64_t capacity, int64_t width);

// Appends this step's keys/values (rows of `qkv` [B, T, 3*width]: q | k | v) to the cache and
// attends the step's queries causally over everything cached. `bias` (optional) is an additive
// score bias [heads, T, length + T] (T5's relative positions). Returns [B, T, width].
Result<Tensor> CachedSelfAttention(Exec& ex, KvCache& cache, const Tensor& qkv, const AttentionParams& p, const Tensor* bias);

// Queries q [B, T, width] over encoder keys/values kv [B, S, 2*width] (k | v).
Result<Tensor> CrossAttention(Exec& ex, const Tensor& q, const Tensor& kv, const AttentionParams& p);

// Greedy decoding. `prompt` [B, P] ids start every row; `step(ids)` runs the decoder on the
// new ids [B, T] (the whole prompt first, then one token) and returns host logits [B, T, vocab],
// which `request.process_logits` may edit before the choice. Rows that produced an EOS continue
// with pad_token_id; stops when all rows have, or after max_new_tokens. Returns
// [B, P + generated] i64.
using StepFn = std::function<Result<Tensor>(const Tensor& new_ids)>;
Result<Tensor> GreedyLoop(const Tensor& prompt, const GenerateRequest& request, const StepFn& step);

}  // namespace accel::seq2seq
