#include "models/decoder/rope.h"

#include <cmath>

namespace accel::decoder {

Result<RopeConfig> RopeFromConfig(const HfConfig& c, int64_t rotary_dim, int64_t max_positions, const char* theta_key,
                                  double default_theta) {
  RopeConfig r;
  r.theta = c.FloatOr(theta_key, default_theta);
  r.rotary_dim = rotary_dim;
  r.max_positions = max_positions;
  r.original_max_positions = max_positions;
  if (r.theta <= 0 || rotary_dim <= 0 || rotary_dim % 2 != 0) {
    return Corrupt(c.label() + ": rotary embedding with theta " + std::to_string(r.theta) + " over " +
                   std::to_string(rotary_dim) + " dims");
  }
  const auto& doc = c.doc();
  auto it = doc.find("rope_scaling");
  if (it == doc.end() || it->is_null()) return r;
  if (!it->is_object()) return Corrupt(c.label() + ": rope_scaling must be an object or null");
  const HfConfig s = c.Sub("rope_scaling");
  std::string type = s.StringOr("rope_type", s.StringOr("type", "default"));
  r.factor = s.FloatOr("factor", 1.0);
  if (type == "default") return r;
  if (r.factor <= 0) return Corrupt(c.label() + ": rope_scaling.factor must be positive");
  if (type == "linear") {
    r.scaling = RopeScaling::kLinear;
  } else if (type == "dynamic") {
    r.scaling = RopeScaling::kDynamic;
  } else if (type == "llama3") {
    r.scaling = RopeScaling::kLlama3;
    r.low_freq_factor = s.FloatOr("low_freq_factor", 1.0);
    r.high_freq_factor = s.FloatOr("high_freq_factor", 4.0);
    r.original_max_positions = s.IntOr("original_max_position_embeddings", 8192);
    if (r.high_freq_factor <= r.low_freq_factor || r.original_max_positions <= 0) {
      return Corrupt(c.label() + ": llama3 rope_scaling needs high_freq_factor > low_freq_factor");
    }
  } else {
    return Unsupported(c.label() + ": rope_scaling type '" + type + "'");
  }
  return r;
}

std::vector<float> RopeInvFreq(const RopeConfig& r, int64_t seq_len) {
  const int64_t half = r.rotary_dim / 2;
  const double dim = static_cast<double>(r.rotary_dim);
  double base = r.theta;
  if (r.scaling == RopeScaling::kDynamic && seq_len > r.max_positions) {
    // NTK-aware: grow the base once the sequence outruns the trained context.
    const double ratio = r.factor * static_cast<double>(seq_len) / static_cast<double>(r.max_positions) - (r.factor - 1.0);
    base = r.theta * std::pow(ratio, dim / (dim - 2.0));
  }
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // As HF: 1 / base^(2i/dim) evaluated in float32.
    float f = 1.0f / static_cast<float>(std::pow(base, static_cast<double>(2 * i) / dim));
    if (r.scaling == RopeScaling::kLinear) f = static_cast<float>(f / r.factor);
    if (r.scaling == RopeScaling::kLlama3) {
      const double old_ctx = static_cast<double>(r.original_max_positions);
      const double low_wavelen = old_ctx / r.low_freq_factor, high_wavelen = old_ctx / r.high_freq_factor;
      const double wavelen = 2.0 * M_PI / f;
      if (wavelen > low_wavelen) {
        f = static_cast<float>(f / r.factor);
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_ctx / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
        f = static_cast<float>((1.0 - smooth) * f / r.factor + smooth * f);
      }
    }
    inv[static_cast<size_t>(i)] = f;
  }
  return inv;
}

}  // namespace accel::decoder
