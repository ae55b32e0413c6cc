// The scale fits of quant_search.h. Each candidate grid is scored by its weighted squared error
// under the least-squares scale for that grid, so a candidate is never worse than the plain
// rounding it starts from (which is always among the candidates).
#include "formats/quant_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/kquants.h"

namespace accel::quant {

namespace {
inline int Nearest(float x) { return static_cast<int>(std::nearbyint(x)); }
}  // namespace

float ImportanceSigma2(const float* x, int n) {
  float sum_x2 = 0;
  for (int i = 0; i < n; ++i) sum_x2 += x[i] * x[i];
  return 2 * sum_x2 / static_cast<float>(n);
}

void SearchWeights(const float* x, int n, const float* importance, float sigma2, DefaultWeights dflt, float* w) {
  if (importance != nullptr) {
    float sum = 0;
    for (int i = 0; i < n; ++i) w[i] = importance[i] * std::sqrt(sigma2 + x[i] * x[i]), sum += w[i];
    // Columns no calibration token ever reached weigh nothing: a block of only those would leave
    // every candidate tied at zero error, so it falls back to the format's own weights.
    if (sum > 0) return;
  }
  if (dflt == DefaultWeights::kSquare) {
    for (int i = 0; i < n; ++i) w[i] = x[i] * x[i];
    return;
  }
  float sum_x2 = 0;
  for (int i = 0; i < n; ++i) sum_x2 += x[i] * x[i];
  const float rms = std::sqrt(sum_x2 / static_cast<float>(n));
  for (int i = 0; i < n; ++i) w[i] = rms + std::fabs(x[i]);
}

float FitScaleMin(const float* x, const float* w, int n, int nmax, ScaleSearch search, uint8_t* L, float* min_out) {
  float mn = x[0], mx = x[0];
  for (int i = 0; i < n; ++i) mn = std::min(mn, x[i]), mx = std::max(mx, x[i]);
  if (mn > 0) mn = 0;  // the formats only subtract a min: a block of positives starts at 0
  if (mx == mn) {
    std::fill(L, L + n, 0);
    *min_out = -mn;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (mx - mn), scale = 1 / iscale, best = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(std::clamp(Nearest(iscale * (x[i] - mn)), 0, nmax));
    const float diff = scale * L[i] + mn - x[i];
    best += w[i] * diff * diff;
  }
  if (search == ScaleSearch::kSearch) {
    float sum_w = 0, sum_x = 0;
    for (int i = 0; i < n; ++i) sum_w += w[i], sum_x += w[i] * x[i];
    uint8_t aux[32];
    for (int step = 0; step <= 20; ++step) {
      iscale = (-1.0f + 0.1f * static_cast<float>(step) + static_cast<float>(nmax)) / (mx - mn);
      float sum_l = 0, sum_l2 = 0, sum_xl = 0;
      for (int i = 0; i < n; ++i) {
        aux[i] = static_cast<uint8_t>(std::clamp(Nearest(iscale * (x[i] - mn)), 0, nmax));
        sum_l += w[i] * aux[i], sum_l2 += w[i] * aux[i] * aux[i], sum_xl += w[i] * aux[i] * x[i];
      }
      // Scale and offset of this grid by weighted least squares (2x2 normal equations).
      const float det = sum_w * sum_l2 - sum_l * sum_l;
      if (det <= 0) continue;
      float s = (sum_w * sum_xl - sum_x * sum_l) / det, m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (m > 0) m = 0, s = sum_xl / sum_l2;
      float err = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = s * aux[i] + m - x[i];
        err += w[i] * diff * diff;
      }
      if (err < best) best = err, scale = s, mn = m, std::memcpy(L, aux, static_cast<size_t>(n));
    }
  }
  *min_out = -mn;
  return scale;
}

float FitScaleSymmetric(const float* x, const float* w, int n, int nmax, ScaleSearch search, int8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  }
  if (amax < 1e-30f) {
    std::fill(L, L + n, 0);
    return 0.0f;
  }
  if (search == ScaleSearch::kNearest) {
    const float iscale = -static_cast<float>(nmax) / max;
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(std::clamp(Nearest(iscale * x[i]), -nmax, nmax - 1));
    return 1 / iscale;
  }
  float best_scale = 0, best = -1;
  int8_t aux[32];
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    float sum_lx = 0, sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      aux[i] = static_cast<int8_t>(std::clamp(Nearest(iscale * x[i]), -nmax, nmax - 1));
      sum_lx += w[i] * x[i] * aux[i], sum_l2 += w[i] * aux[i] * aux[i];
    }
    // Least-squares scale for this grid; the error falls as sum_lx^2 / sum_l2 grows.
    if (sum_l2 > 0 && (best < 0 || sum_lx * sum_lx > best * sum_l2)) {
      best_scale = sum_lx / sum_l2, best = best_scale * sum_lx;
      std::memcpy(L, aux, static_cast<size_t>(n));
    }
  }
  if (best < 0) {  // every weight zero: fall back to the extremes' scale
    const float iscale = -static_cast<float>(nmax) / max;
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(std::clamp(Nearest(iscale * x[i]), -nmax, nmax - 1));
    return 1 / iscale;
  }
  return best_scale;
}

int NearestIq4(float v) {
  int best = 0;
  float err = std::fabs(v - kIq4nlValues[0]);
  for (int i = 1; i < 16; ++i) {
    const float e = std::fabs(v - kIq4nlValues[i]);
    if (e < err) err = e, best = i;
  }
  return best;
}

float FitScaleIq4(const float* x, const float* w, int n, ScaleSearch search, uint8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  }
  if (amax < 1e-30f) {
    std::fill(L, L + n, static_cast<uint8_t>(NearestIq4(0.0f)));
    return 0.0f;
  }
  // The grid's end (-127) on the largest value, its sign kept in the scale.
  const float d0 = max / kIq4nlValues[0];
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(NearestIq4(x[i] / d0));
  if (search == ScaleSearch::kNearest) return d0;
  float best_d = d0, best = -1;
  uint8_t aux[32];
  for (int step = -7; step <= 7; ++step) {
    const float id = (static_cast<float>(step) + kIq4nlValues[0]) / max;
    float sumqx = 0, sumq2 = 0;
    for (int i = 0; i < n; ++i) {
      aux[i] = static_cast<uint8_t>(NearestIq4(id * x[i]));
      const float q = kIq4nlValues[aux[i]];
      sumqx += w[i] * q * x[i], sumq2 += w[i] * q * q;
    }
    if (sumq2 > 0 && (best < 0 || sumqx * sumqx > best * sumq2)) {
      best_d = sumqx / sumq2, best = best_d * sumqx;
      std::memcpy(L, aux, static_cast<size_t>(n));
    }
  }
  return best_d;
}

double WeightedSquaredError(const float* x, const float* y, const float* w, int64_t n) {
  double e = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    e += (w != nullptr ? w[i] : 1.0) * d * d;
  }
  return e;
}

}  // namespace accel::quant
