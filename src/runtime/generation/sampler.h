#pragma once
// Next-token choice from logits: repetition/presence/frequency penalties, temperature, top-k,
// top-p, min-p, then a draw from the remaining distribution; temperature 0 is greedy.
//
// Determinism guarantee: the random stream is a std::mt19937_64 (whose output the C++
// standard fixes bit for bit) seeded with `seed`, turned into doubles by our own code (not by
// an implementation-defined std::*_distribution). The same seed, parameters and logits give
// the same tokens on every platform and standard library; the logits themselves are
// reproducible for the same model, build and thread count.
#include <cstdint>
#include <random>
#include <vector>

#include "core/status.h"

namespace accel::generation {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off; keep tokens with p >= min_p * p_max
  float repetition_penalty = 1.0f;  // CTRL/HF: logit / r if > 0 else logit * r, for seen tokens
  float presence_penalty = 0.0f;    // OpenAI: - presence if generated at least once
  float frequency_penalty = 0.0f;   // OpenAI: - frequency * count in the generated tokens
  uint64_t seed = 0;
};

Status ValidateSamplingParams(const SamplingParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // `context` = prompt + generated tokens (for the repetition penalty), `generated` = the new
  // tokens only (for presence/frequency). `logits` is modified in place.
  int64_t Next(float* logits, int64_t vocab, const std::vector<int64_t>& context, const std::vector<int64_t>& generated);
  // A double in [0, 1) from the next 53 bits of the stream.
  double Uniform();

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int64_t>> candidates_;
  std::vector<int64_t> counts_;
};

}  // namespace accel::generation
