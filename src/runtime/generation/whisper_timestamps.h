#pragma once
// Whisper's timestamp tokens: the decoding rules of HF's WhisperTimeStampLogitsProcessor and
// the split of a decoded row into timed segments (HF WhisperTokenizer's offsets).
//
// Timestamp tokens are every id from `no_timestamps_token_id + 1` to the end of the
// vocabulary; token timestamp_begin + n means n * time_precision seconds (0.02 s).
#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/generation/logits_processors.h"

namespace accel::generation {

struct WhisperTimestampParams {
  int64_t no_timestamps_token_id = 0;
  int64_t eos_token_id = 0;  // text tokens are the ids below it
  int64_t begin_index = 0;   // position of the first generated token (after the prompt)
  std::optional<int64_t> max_initial_timestamp_index;
};

// For every step:
//  - <|notimestamps|> is never chosen;
//  - timestamps come in pairs: after a lone timestamp (text or nothing before it) no text
//    token may follow (another timestamp or EOS closes the pair); after a pair, or a timestamp
//    that opens the output, a timestamp may not follow;
//  - timestamps never decrease: below the last one is forbidden, and the last one itself too
//    unless it ended a segment (it may then start the next);
//  - the first generated token is a timestamp, at most max_initial_timestamp_index;
//  - when the timestamps together are more probable than the likeliest text token, only a
//    timestamp may come (logsumexp of timestamp logits > max text logit: the same comparison
//    as HF's on log-softmaxed scores, without the shared normaliser).
class WhisperTimestampRules final : public LogitsProcessor {
 public:
  explicit WhisperTimestampRules(const WhisperTimestampParams& p) : p_(p), timestamp_begin_(p.no_timestamps_token_id + 1) {}
  void Apply(const std::vector<int64_t>& ids, float* logits, int64_t vocab) const override;
  int64_t timestamp_begin() const { return timestamp_begin_; }

 private:
  WhisperTimestampParams p_;
  int64_t timestamp_begin_;
};

struct TimestampSegment {
  double start = 0, end = 0;    // seconds
  std::vector<int64_t> tokens;  // the segment's tokens, timestamps removed
};

// Generated ids -> segments, as WhisperTokenizer.decode(output_offsets=True) computes them: a
// segment runs from a timestamp to the timestamp that ends it (where two timestamps meet, or
// the last timestamp); text after the last timestamp belongs to none. No segments when there
// are no timestamps or a single one. A start below the previous end means a new 30 s window
// (HF's long-form concatenation) and shifts the times that follow.
std::vector<TimestampSegment> TimestampSegments(const std::vector<int64_t>& ids, int64_t timestamp_begin,
                                                double time_precision = 0.02, int64_t segment_size = 1500);

}  // namespace accel::generation
