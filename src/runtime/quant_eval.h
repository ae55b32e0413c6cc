#pragma once
// How far a quantized model's next-token distributions are from a reference's over the same
// text (llama.cpp's perplexity --kl-divergence measures the same): both run chunk by chunk
// (runtime/chunked_eval), compared position by position.
#include <cstdint>
#include <vector>

#include "runtime/chunked_eval.h"

namespace accel {

struct LogitComparison {
  int64_t positions = 0;
  double mean_kl = 0, max_kl = 0;  // KL(reference || test) of the softmax, nats per position
  double top1_agreement = 0;       // fraction of positions whose arg max agrees
  double max_abs_diff = 0;         // largest |logit difference|
  double ref_perplexity = 0, test_perplexity = 0;  // of each chunk's next tokens (position 0 predicts 1, ...)
};

Result<LogitComparison> CompareLogits(LoadedModel& reference, LoadedModel& test, const std::vector<int64_t>& tokens,
                                      const ChunkOptions& o);

}  // namespace accel
