#pragma once
// The generation loop over any CausalLm: left-pads a batch of prompts of different lengths,
// prefills them in one step, then decodes one token per row per step with a Sampler per row,
// streaming each token (and, given a decoder, each piece of text) through callbacks until EOS,
// a stop string, max_new_tokens or the context limit. Streamed text holds back anything that
// may still become a stop string (stop_strings.h) and never includes the stop string. The KV cache is allocated once per request up to the longest prompt plus
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
  std::vector<std::string> stop_strings;  // need a TextDecoder
  int64_t max_context = 0;                // KV cache limit in tokens; 0 = the model's context
  int64_t pad_token_id = 0;               // fed for padding slots (masked, never attended)
  DType kv_cache_dtype = DType::kF32;     // f32, q8_0 or q4_0 (decoder/kv_cache.h)
};

// Called for every new token of every row; return false to stop that row.
using TokenCallback = std::function<bool(int64_t row, int64_t token)>;
// A row's new tokens as text, decoded together (a tokenizer's Decode): a multi-byte character
// split over tokens, or a space merged into the next token, comes out right only in context.
using TextDecoder = std::function<std::string(const std::vector<int64_t>& tokens)>;
// Called with each piece of a row's text as soon as it can be shown.
using TextCallback = std::function<void(int64_t row, const std::string& text)>;

struct RowResult {
  std::vector<int64_t> tokens;  // new tokens only (a stop string's tokens included)
  std::string text;             // with a decoder: the decoded tokens, cut before the first stop string
  std::string finish_reason;    // "eos", "stop", "length", "callback", "context_limit"
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
  Generator(CausalLm& model, Backend& backend) : model_(model), backend_(backend) { arena_.SetAllocator(backend.allocator()); }

  Result<GenerationResult> Run(const std::vector<std::vector<int64_t>>& prompts, const GenerationOptions& options,
                               const TokenCallback& on_token = nullptr, const TextDecoder& decode = nullptr,
                               const TextCallback& on_text = nullptr);

  const decoder::KvCache* cache() const { return cache_.get(); }

 private:
  CausalLm& model_;
  Backend& backend_;
  Arena arena_;
  std::unique_ptr<decoder::KvCache> cache_;
};

}  // namespace accel::generation
