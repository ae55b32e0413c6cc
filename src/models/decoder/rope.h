#pragma once
// Rotary position embedding parameters from config.json, and the inverse frequencies they
// imply: default, linear, dynamic NTK and llama3 scaling (HF's rope_scaling / rope_type).
#include <cstdint>
#include <string>
#include <vector>

#include "formats/hf_config.h"

namespace accel::decoder {

enum class RopeScaling { kNone, kLinear, kDynamic, kLlama3 };

struct RopeConfig {
  double theta = 10000.0;
  int64_t rotary_dim = 0;  // dims of each head that rotate (partial rotary < head_dim)
  bool interleaved = false;
  RopeScaling scaling = RopeScaling::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_positions = 0;
  int64_t max_positions = 0;
};

// Reads rope_theta (or `theta_key`), rope_scaling and the rotary fraction already decided
// by the caller (`rotary_dim`). Unknown scaling types are Unsupported, naming the type.
Result<RopeConfig> RopeFromConfig(const HfConfig& c, int64_t rotary_dim, int64_t max_positions,
                                  const char* theta_key = "rope_theta", double default_theta = 10000.0);

// inv_freq[i] for i < rotary_dim/2 when the sequence seen so far is `seq_len` long (only
// dynamic NTK depends on it).
std::vector<float> RopeInvFreq(const RopeConfig& r, int64_t seq_len);

}  // namespace accel::decoder
