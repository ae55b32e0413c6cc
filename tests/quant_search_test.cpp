// The per-block scale search (formats/quant_search.h) against round-to-nearest: on random data
// the importance-weighted search never has a larger importance-weighted error than RTN, and on a
// synthetic layer with uneven input columns (what real activations look like) the search, and
// more so the search under an importance matrix, lowers the layer's output error. Prints the
// numbers docs/MODELS.md records.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "formats/kquants.h"
#include "formats/quant.h"
#include "test_util.h"

namespace accel {
namespace {

using quant::QuantParams;
using quant::ScaleSearch;

constexpr DType kTypes[] = {DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ3_K, DType::kQ2_K, DType::kIQ4_NL, DType::kIQ4_XS};

Tensor Dequantized(const Tensor& w, DType t, const QuantParams& p) { return quant::ToF32(quant::Quantize(w, t, p).value()).value(); }

// sum_ij imp_j (w_ij - wq_ij)^2
double ImportanceError(const Tensor& w, const Tensor& wq, const std::vector<float>& imp) {
  const int64_t cols = w.dim(1);
  double e = 0;
  for (size_t i = 0; i < w.numel(); ++i) {
    const double d = double(w.data<float>()[i]) - wq.data<float>()[i];
    e += imp[i % cols] * d * d;
  }
  return e;
}

TEST(QuantSearch, WeightedSearchNeverLosesToRoundToNearest) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Tensor w = test::RandomTensor({8, 512}, seed);
    std::mt19937 rng(seed + 100);
    std::lognormal_distribution<float> spread(0.0f, 1.5f);
    std::vector<float> imp(512);
    for (float& v : imp) v = spread(rng);
    for (DType t : kTypes) {
      const double rtn = ImportanceError(w, Dequantized(w, t, {ScaleSearch::kNearest, nullptr}), imp);
      const double searched = ImportanceError(w, Dequantized(w, t, {ScaleSearch::kSearch, imp.data()}), imp);
      EXPECT_LE(searched, rtn) << Name(t) << " seed " << seed;
      // Plain squared error too: the default weights (no imatrix) also beat plain rounding.
      const std::vector<float> ones(512, 1.0f);
      const double rtn_mse = ImportanceError(w, Dequantized(w, t, {ScaleSearch::kNearest, nullptr}), ones);
      const double search_mse = ImportanceError(w, Dequantized(w, t, {}), ones);
      EXPECT_LE(search_mse, rtn_mse * 1.01) << Name(t) << " seed " << seed;
    }
  }
}

// A [512, 2048] layer whose 2048 input columns see activations of very different sizes (scales
// log-normal, sigma 1.5: a few columns carry most of the output, as in trained transformers).
// The importance comes from 256 calibration rows; the output error, |x (W - Wq)^T|^2 relative
// to |x W^T|^2, from 64 other rows of the same distribution.
TEST(QuantSearch, ImportanceLowersTheOutputErrorOfASyntheticLayer) {
  const int64_t n = 512, k = 2048, calib = 256, rows = 64;
  const Tensor w = test::RandomTensor({n, k}, 42, 0.05f);
  std::mt19937 rng(7);
  std::lognormal_distribution<float> spread(0.0f, 1.5f);
  std::normal_distribution<float> gauss;
  std::vector<float> col_scale(k), x(rows * k), imp(k, 0.0f);
  for (float& s : col_scale) s = spread(rng);
  for (int64_t r = 0; r < calib; ++r)
    for (int64_t j = 0; j < k; ++j) {
      const float v = gauss(rng) * col_scale[j];
      imp[j] += v * v / calib;  // what `accel imatrix` records
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) x[r * k + j] = gauss(rng) * col_scale[j];
  auto output_error = [&](const Tensor& wq) {
    double err = 0, ref = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < n; ++i) {
        double y = 0, yq = 0;
        for (int64_t j = 0; j < k; ++j) y += double(w.data<float>()[i * k + j]) * x[r * k + j], yq += double(wq.data<float>()[i * k + j]) * x[r * k + j];
        err += (y - yq) * (y - yq), ref += y * y;
      }
    return err / ref;
  };
  std::printf("synthetic layer [512 x 2048], log-normal column scales: relative output error |x(W-Wq)|^2 / |xW|^2\n");
  std::printf("%-7s %12s %12s %14s\n", "type", "rtn", "search", "search+imatrix");
  for (DType t : kTypes) {
    const double rtn = output_error(Dequantized(w, t, {ScaleSearch::kNearest, nullptr}));
    const double search = output_error(Dequantized(w, t, {}));
    const double imatrix = output_error(Dequantized(w, t, {ScaleSearch::kSearch, imp.data()}));
    std::printf("%-7s %12.3e %12.3e %14.3e\n", std::string(Name(t)).c_str(), rtn, search, imatrix);
    EXPECT_LT(search, rtn) << Name(t);
    EXPECT_LT(imatrix, search) << Name(t);
  }
}

}  // namespace
}  // namespace accel
