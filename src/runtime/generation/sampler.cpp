#include "runtime/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace accel::generation {

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) return InvalidArgument("temperature must be >= 0");
  if (p.top_k < 0) return InvalidArgument("top-k must be >= 0");
  if (!(p.top_p > 0 && p.top_p <= 1)) return InvalidArgument("top-p must be in (0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) return InvalidArgument("min-p must be in [0, 1]");
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) return InvalidArgument("repetition penalty must be > 0");
  if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) return InvalidArgument("penalties must be finite");
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params) : p_(params), rng_(params.seed) {}

double Sampler::Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int64_t Sampler::Next(float* logits, int64_t vocab, const std::vector<int64_t>& context, const std::vector<int64_t>& generated) {
  if (p_.repetition_penalty != 1.0f) {
    // Each distinct seen token is penalised once, as HF's RepetitionPenaltyLogitsProcessor.
    counts_.assign(static_cast<size_t>(vocab), 0);
    for (int64_t t : context) {
      if (t < 0 || t >= vocab || counts_[t]++) continue;
      logits[t] = logits[t] > 0 ? logits[t] / p_.repetition_penalty : logits[t] * p_.repetition_penalty;
    }
  }
  if (p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f) {
    counts_.assign(static_cast<size_t>(vocab), 0);
    for (int64_t t : generated) {
      if (t >= 0 && t < vocab) ++counts_[t];
    }
    for (int64_t t = 0; t < vocab; ++t) {
      if (counts_[t]) logits[t] -= p_.presence_penalty + p_.frequency_penalty * static_cast<float>(counts_[t]);
    }
  }
  if (p_.temperature == 0.0f) return std::max_element(logits, logits + vocab) - logits;

  // Candidates sorted by logit (ties by id, so the order never depends on the sort).
  candidates_.clear();
  for (int64_t t = 0; t < vocab; ++t) candidates_.emplace_back(logits[t] / p_.temperature, t);
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t keep = candidates_.size();
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < keep) {
    keep = static_cast<size_t>(p_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  candidates_.resize(keep);
  // Softmax over the survivors.
  const float mx = candidates_.front().first;
  double sum = 0;
  std::vector<double> probs(keep);
  for (size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(static_cast<double>(candidates_[i].first - mx));
  for (auto& q : probs) q /= sum;
  if (p_.top_p < 1.0f) {
    // Smallest prefix whose mass reaches top_p (always at least one token).
    double cum = 0;
    size_t n = 0;
    while (n < keep) {
      cum += probs[n++];
      if (cum >= p_.top_p) break;
    }
    keep = n;
  }
  if (p_.min_p > 0.0f) {
    const double floor = p_.min_p * probs[0];
    size_t n = 1;
    while (n < keep && probs[n] >= floor) ++n;
    keep = n;
  }
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += probs[i];
  double r = Uniform() * mass;
  for (size_t i = 0; i < keep; ++i) {
    r -= probs[i];
    if (r < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace accel::generation
