#include "runtime/generation/sequence_state.h"

#include <algorithm>

namespace accel::generation {

namespace {
SamplingParams WithSeed(SamplingParams p, uint64_t seed) {
  p.seed = seed;
  return p;
}
}  // namespace

Status ValidateSequence(const std::vector<int64_t>& prompt, const GenerationOptions& o, int64_t vocab, bool can_decode) {
  ACCEL_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  if (o.max_new_tokens < 0) return InvalidArgument("max new tokens must be >= 0");
  if (!o.stop_strings.empty() && !can_decode) return InvalidArgument("stop strings need a tokenizer to decode tokens");
  if (prompt.empty()) return InvalidArgument("empty prompt");
  for (int64_t t : prompt) {
    if (t < 0 || t >= vocab) return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(vocab));
  }
  return Status::Ok();
}

SequenceState::SequenceState(std::vector<int64_t> prompt, const GenerationOptions& o, uint64_t seed, const TextDecoder* decode)
    : eos_(o.eos_token_ids),
      stops_(o.stop_strings),
      max_new_tokens_(o.max_new_tokens),
      decode_(decode && *decode ? decode : nullptr),
      sampler_(WithSeed(o.sampling, seed)),
      context_(std::move(prompt)),
      prompt_tokens_(static_cast<int64_t>(context_.size())),
      filter_(o.stop_strings) {
  if (max_new_tokens_ <= 0) result_.finish_reason = "length";
}

SequenceState::Emitted SequenceState::Next(float* logits, int64_t vocab) {
  Emitted e;
  e.token = sampler_.Next(logits, vocab, context_, result_.tokens);
  result_.tokens.push_back(e.token);
  context_.push_back(e.token);
  const bool is_eos = std::find(eos_.begin(), eos_.end(), e.token) != eos_.end();
  if (decode_ && !is_eos) {
    e.text = TextUpdate();
    if (filter_.stopped()) result_.finish_reason = "stop";
  }
  if (!done() && is_eos) result_.finish_reason = "eos";
  if (!done() && static_cast<int64_t>(result_.tokens.size()) >= max_new_tokens_) result_.finish_reason = "length";
  return e;
}

void SequenceState::End(const std::string& reason) {
  if (!done()) result_.finish_reason = reason;
}

std::string SequenceState::TextUpdate() {
  const std::string full = (*decode_)(result_.tokens);
  static const std::string kReplacement = "\xEF\xBF\xBD";
  size_t usable = full.size();
  while (usable >= kReplacement.size() && full.compare(usable - kReplacement.size(), kReplacement.size(), kReplacement) == 0) {
    usable -= kReplacement.size();
  }
  if (usable < seen_.size() || full.compare(0, seen_.size(), seen_) != 0) return {};  // earlier text changed: wait
  std::string delta = full.substr(seen_.size(), usable - seen_.size());
  seen_ = full.substr(0, usable);
  return filter_.Push(delta);
}

std::string SequenceState::Finish() {
  if (!decode_) return {};
  // The EOS token's text is not part of the output.
  std::vector<int64_t> tokens = result_.tokens;
  if (result_.finish_reason == "eos" && !tokens.empty()) tokens.pop_back();
  // The rest of the stream, and the final text: the decode of all tokens cut before the first
  // stop string. The two agree unless a later token rewrote earlier text (a run of bytes that
  // is not UTF-8 decodes to one U+FFFD per byte).
  const std::string full = (*decode_)(tokens);
  std::string out;
  if (!filter_.stopped() && full.size() > seen_.size() && full.compare(0, seen_.size(), seen_) == 0) {
    out = filter_.Push(full.substr(seen_.size()));
  }
  out += filter_.Finish();
  size_t cut = std::string::npos;
  for (const auto& s : stops_) {
    if (!s.empty()) cut = std::min(cut, full.find(s));
  }
  result_.text = full.substr(0, cut);
  return out;
}

}  // namespace accel::generation
