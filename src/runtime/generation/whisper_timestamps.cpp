#include "runtime/generation/whisper_timestamps.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace accel::generation {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// logits[from, to) = -inf, with the bounds clamped to the vocabulary (Python slicing).
void Mask(float* logits, int64_t vocab, int64_t from, int64_t to) {
  from = std::clamp<int64_t>(from, 0, vocab);
  to = std::clamp<int64_t>(to, 0, vocab);
  if (from < to) std::fill(logits + from, logits + to, kNegInf);
}
}  // namespace

void WhisperTimestampRules::Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const {
  const int64_t tb = timestamp_begin_;
  Mask(logits, vocab, p_.no_timestamps_token_id, p_.no_timestamps_token_id + 1);

  // Only the generated part counts: the prompt's special tokens are not timestamps to pair.
  const size_t begin = static_cast<size_t>(std::max<int64_t>(0, p_.begin_index));
  const size_t n = ids.size() > begin ? ids.size() - begin : 0;
  const int64_t* seq = ids.data() + begin;
  const bool last_was_timestamp = n >= 1 && seq[n - 1] >= tb;
  const bool penultimate_was_timestamp = n < 2 || seq[n - 2] >= tb;
  if (last_was_timestamp) {
    if (penultimate_was_timestamp) {
      Mask(logits, vocab, tb, vocab);  // a pair is complete: text (or EOS) next
    } else {
      Mask(logits, vocab, 0, p_.eos_token_id);  // an open pair: no text until it is closed
    }
  }
  int64_t last_timestamp = -1;
  for (size_t i = n; i-- > 0;) {
    if (seq[i] >= tb) {
      last_timestamp = seq[i];
      break;
    }
  }
  if (last_timestamp >= 0) {
    // A timestamp that just closed a segment may be repeated to open the next one; otherwise
    // time must move forward.
    const int64_t lowest_allowed = last_was_timestamp && !penultimate_was_timestamp ? last_timestamp : last_timestamp + 1;
    Mask(logits, vocab, tb, lowest_allowed);
  }

  if (static_cast<int64_t>(ids.size()) == p_.begin_index) {
    Mask(logits, vocab, 0, tb);  // the output opens with a timestamp
    if (p_.max_initial_timestamp_index) Mask(logits, vocab, tb + *p_.max_initial_timestamp_index + 1, vocab);
  }

  // Timestamps as a group against the best text token. Both sides of HF's comparison of
  // log-softmax values share the normaliser, so comparing raw logits is the same test.
  const int64_t text_end = std::clamp<int64_t>(tb, 0, vocab);
  float best_text = kNegInf;
  for (int64_t t = 0; t < text_end; ++t) best_text = std::max(best_text, logits[t]);
  float best_ts = kNegInf;
  for (int64_t t = text_end; t < vocab; ++t) best_ts = std::max(best_ts, logits[t]);
  if (best_ts == kNegInf) return;  // no timestamp possible: logsumexp is -inf
  double sum = 0;
  for (int64_t t = text_end; t < vocab; ++t) sum += std::exp(static_cast<double>(logits[t]) - best_ts);
  const double timestamp_lse = best_ts + std::log(sum);
  if (timestamp_lse > best_text) Mask(logits, vocab, 0, tb);
}

std::vector<TimestampSegment> TimestampSegments(const std::vector<int64_t>& ids, int64_t timestamp_begin, double time_precision,
                                                int64_t segment_size) {
  const size_t n = ids.size();
  auto is_ts = [&](size_t i) { return ids[i] >= timestamp_begin; };
  std::vector<size_t> cuts;  // a cut sits on the second timestamp of each adjacent pair
  size_t count = 0, first = n, last = n;
  for (size_t i = 0; i < n; ++i) {
    if (!is_ts(i)) continue;
    ++count;
    if (first == n) first = i;
    last = i;
    if (i + 1 < n && is_ts(i + 1)) cuts.push_back(i + 1);
  }
  if (cuts.empty() && count <= 1) return {};
  if (std::find(cuts.begin(), cuts.end(), last + 1) == cuts.end()) cuts.push_back(last + 1);

  std::vector<TimestampSegment> out;
  size_t from = first;
  int64_t max_end = 0, shift = 0;
  for (size_t cut : cuts) {
    if (cut - from > 1) {
      const int64_t start = ids[from] - timestamp_begin, end = ids[cut - 1] - timestamp_begin;
      if (start < max_end) {
        // Time went back: a new window began. After a lone closing timestamp the previous
        // window ran to its full length; after a pair, to that pair's time.
        const bool single_ending = from >= 2 && !(is_ts(from - 2) && is_ts(from - 1));
        shift += single_ending ? segment_size : max_end;
      }
      max_end = end;
      TimestampSegment s;
      s.start = start * time_precision + shift * time_precision;
      s.end = end * time_precision + shift * time_precision;
      for (size_t i = from; i < cut; ++i) {
        if (!is_ts(i)) s.tokens.push_back(ids[i]);
      }
      out.push_back(std::move(s));
    }
    from = cut;
  }
  return out;
}

}  // namespace accel::generation
