#pragma once
// The generation loop over any CausalLm: left-pads a batch of prompts of different lengths,
// prefills them in one step, then decodes one token per row per step with a Sampler per row,
// streaming each token through a callback until EOS, a stop string, max_new_tokens or the
// context limit. The KV cache is allocated once per request up to the longest prompt plus
// max_new_tokens (capped by the context), accounted in the result, and kept for the next request
// when it fits.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/arena.h"
#include "models/causal_lm.h"
#include "runtime/generation/sampler.h"

namespace accel::generation {

struct GenerationOptions {
  int64_t max_new_tokens = 128;
  SamplingParams sampling;
  std::vector<int64_t> eos_token_ids;     // empty = none (the CLI passes the model's)
  std::vector<std::string> stop_strings;  // need a detokenizer
  int64_t max_context = 0;                // KV cache limit in tokens; 0 = the model's context
  int64_t pad_token_id = 0;               // fed for padding slots (masked, never attended)
};

// Called for every new token of every row; return false to stop that row.
using TokenCallback = std::function<bool(int64_t row, int64_t token)>;
// Text of one token, for stop strings (pieces are concatenated per row).
using TokenText = std::function<std::string(int64_t token)>;

struct RowResult {
  std::vector<int64_t> tokens;  // new tokens only
  std::string finish_reason;    // "eos", "stop", "length", "callback"
};

struct GenerationResult {
  std::vector<RowResult> rows;
  int64_t prompt_tokens = 0;     // real (unpadded) prompt tokens
  int64_t generated_tokens = 0;  // new tokens over all rows
  double prefill_ms = 0, ttft_ms = 0, decode_ms = 0;
  size_t kv_cache_bytes = 0;
  int64_t kv_cache_capacity = 0;
};

class Generator {
 public:
  Generator(CausalLm& model, Backend& backend) : model_(model), backend_(backend) {}

  Result<GenerationResult> Run(const std::vector<std::vector<int64_t>>& prompts, const GenerationOptions& options,
                               const TokenCallback& on_token = nullptr, const TokenText& token_text = nullptr);

  const decoder::KvCache* cache() const { return cache_.get(); }

 private:
  CausalLm& model_;
  Backend& backend_;
  Arena arena_;
  std::unique_ptr<decoder::KvCache> cache_;
};

}  // namespace accel::generation
