#pragma once
// One sequence's side of generation, whoever batches it (Generator's lockstep rows, the
// ContinuousBatcher's slots): its sampler with its own seed, its context for the penalties,
// the end conditions (EOS, a stop string, max_new_tokens) and its text as it grows. Streamed
// text holds back anything that may still become a stop string and never includes it.
#include <optional>
#include <string>
#include <vector>

#include "runtime/generation/generator.h"
#include "runtime/generation/stop_strings.h"

namespace accel::generation {

// What any generation loop checks before taking a prompt: sampling parameters, max_new_tokens,
// stop strings (they need a decoder), a non-empty prompt of ids inside the vocabulary.
Status ValidateSequence(const std::vector<int64_t>& prompt, const GenerationOptions& options, int64_t vocab, bool can_decode);

class SequenceState {
 public:
  // `decode` may be empty (no text); it must outlive the state. `seed` replaces options' seed.
  SequenceState(std::vector<int64_t> prompt, const GenerationOptions& options, uint64_t seed, const TextDecoder* decode);

  struct Emitted {
    int64_t token = -1;
    std::string text;  // what became showable with it (with a decoder)
  };
  // Picks the next token from `logits` (changed in place), records it, and ends the sequence if
  // it was EOS, completed a stop string or reached max_new_tokens.
  Emitted Next(float* logits, int64_t vocab);
  // Ends the sequence for another reason ("callback", "context_limit", ...), unless it ended.
  void End(const std::string& reason);
  bool done() const { return !result_.finish_reason.empty(); }
  // Once done: the text still held back, and result().text set to the final text.
  std::string Finish();

  const RowResult& result() const { return result_; }
  int64_t last_token() const { return result_.tokens.empty() ? context_.back() : result_.tokens.back(); }
  int64_t prompt_tokens() const { return prompt_tokens_; }

 private:
  // A decode ending in U+FFFD may be a character still missing bytes: that tail waits.
  std::string TextUpdate();

  const std::vector<int64_t> eos_;
  const std::vector<std::string> stops_;
  const int64_t max_new_tokens_;
  const TextDecoder* decode_;
  Sampler sampler_;
  std::vector<int64_t> context_;  // prompt + new tokens
  int64_t prompt_tokens_;
  RowResult result_;
  std::string seen_;  // decoded text already pushed through the filter
  StopStringFilter filter_;
};

}  // namespace accel::generation
