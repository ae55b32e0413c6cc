#pragma once
// Logits processors for greedy decoding, with the semantics of HF's classes of the same names:
// each edits one row's next-token logits given the row so far. A list applies them in order
// and becomes GenerateRequest::process_logits, so any TextGenerator runs them without knowing
// them. (Sampling-time penalties live in sampler.h; these decide which tokens may come at all.)
#include <cstdint>
#include <memory>
#include <vector>

#include "models/model.h"

namespace accel::generation {

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  // `ids` = the row so far, prompt included; `logits` [vocab] are edited in place.
  virtual void Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const = 0;
};

// SuppressTokensLogitsProcessor: the listed ids are never chosen (ids outside the vocabulary
// are ignored, as torch.isin over arange(vocab) ignores them).
class SuppressTokens final : public LogitsProcessor {
 public:
  explicit SuppressTokens(std::vector<int64_t> tokens) : tokens_(std::move(tokens)) {}
  void Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const override;

 private:
  std::vector<int64_t> tokens_;
};

// SuppressTokensAtBeginLogitsProcessor: the listed ids cannot be the token at position
// `begin_index` (the first generated one; Whisper: no blank or EOS first).
class SuppressTokensAtBegin final : public LogitsProcessor {
 public:
  SuppressTokensAtBegin(std::vector<int64_t> tokens, int64_t begin_index) : tokens_(std::move(tokens)), begin_(begin_index) {}
  void Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const override;

 private:
  std::vector<int64_t> tokens_;
  int64_t begin_;
};

// Processors applied in order. Optionally a forced prefix first: the tokens at positions
// [start, start + choices.size()) are chosen only among choices[i] (one id = forced; several =
// the model's argmax among them, e.g. Whisper's language detection), and the processors only
// run after it. The prefix stands for prompt tokens that HF passes in decoder_input_ids (where
// no processor runs) when one of them must come from the model's own logits.
class LogitsProcessorList {
 public:
  void Add(std::shared_ptr<const LogitsProcessor> p) { processors_.push_back(std::move(p)); }
  void ForcePrefix(int64_t start, std::vector<std::vector<int64_t>> choices);
  void Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const;
  bool empty() const { return processors_.empty() && choices_.empty(); }
  size_t size() const { return processors_.size(); }
  // A callable holding a copy of the list (processors are shared, immutable).
  LogitsProcessorFn AsFunction() const;

 private:
  std::vector<std::shared_ptr<const LogitsProcessor>> processors_;
  int64_t prefix_start_ = 0;
  std::vector<std::vector<int64_t>> choices_;
};

}  // namespace accel::generation
