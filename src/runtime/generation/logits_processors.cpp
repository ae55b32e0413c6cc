#include "runtime/generation/logits_processors.h"

#include <algorithm>
#include <limits>

namespace accel::generation {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void Suppress(const std::vector<int64_t>& tokens, float* logits, int64_t vocab) {
  for (int64_t t : tokens) {
    if (t >= 0 && t < vocab) logits[t] = kNegInf;
  }
}
}  // namespace

void SuppressTokens::Apply(const std::vector<int64_t>&, float* logits, int64_t vocab) const { Suppress(tokens_, logits, vocab); }

void SuppressTokensAtBegin::Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const {
  if (static_cast<int64_t>(ids.size()) == begin_) Suppress(tokens_, logits, vocab);
}

void LogitsProcessorList::ForcePrefix(int64_t start, std::vector<std::vector<int64_t>> choices) {
  prefix_start_ = start;
  choices_ = std::move(choices);
}

void LogitsProcessorList::Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const {
  const int64_t pos = static_cast<int64_t>(ids.size()) - prefix_start_;
  if (pos >= 0 && pos < static_cast<int64_t>(choices_.size())) {
    const auto& allowed = choices_[static_cast<size_t>(pos)];
    std::vector<std::pair<int64_t, float>> kept;
    for (int64_t t : allowed) {
      if (t >= 0 && t < vocab) kept.emplace_back(t, logits[t]);
    }
    std::fill(logits, logits + vocab, kNegInf);
    for (const auto& [t, v] : kept) logits[t] = v;
    return;
  }
  for (const auto& p : processors_) p->Apply(ids, logits, vocab);
}

LogitsProcessorFn LogitsProcessorList::AsFunction() const {
  return [list = *this](const std::vector<int64_t>& ids, float* logits, int64_t vocab) { list.Apply(ids, logits, vocab); };
}

}  // namespace accel::generation
