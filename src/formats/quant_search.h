#pragma once
// How block quantizers choose their scales: the weighted least-squares fits shared by the
// K-quants, IQ4_NL/IQ4_XS and Q4_0 (kquants.cpp, iq4.cpp, quant.cpp).
//
// A block's error is sum_i w_i (x_i - xq_i)^2. Which w_i: with an importance matrix (the mean of
// the squared input activations of each weight column, `accel imatrix`), w_i = imp_i *
// sqrt(sigma2 + x_i^2) as llama.cpp weighs it: a column that sees large activations matters more
// to the layer's output, and within it large weights still count more. Without one, the formats'
// defaults (x^2 for the symmetric grids, rms + |x| for scale-and-min), which already beat plain
// rounding.
#include <cstdint>

namespace accel::quant {

enum class ScaleSearch : uint8_t {
  kNearest,  // round to nearest under the scale the block's extremes give (the baseline)
  kSearch,   // several candidate scales around it; keep the least weighted squared error
};

struct QuantParams {
  ScaleSearch search = ScaleSearch::kSearch;
  // Importance of each element of the x handed to a block quantizer (n floats), or null for the
  // format's default weights. The tensor-level quant::Quantize takes one per column instead.
  const float* importance = nullptr;
};

// The search weights of n elements: importance[i] * sqrt(sigma2 + x_i^2) when importance is set,
// else x_i^2 (kSquare) or rms(x) + |x_i| (kRmsPlusAbs).
enum class DefaultWeights : uint8_t { kSquare, kRmsPlusAbs };
// sigma2 for a block (a super-block where the format has one): twice its mean square, so small
// weights in an important column still count.
float ImportanceSigma2(const float* x, int n);
void SearchWeights(const float* x, int n, const float* importance, float sigma2, DefaultWeights dflt, float* w);

// x ~= scale * L - min_out, L in 0..nmax, min_out >= 0 (the formats subtract it). kSearch tries
// 21 grids around nmax / (max - min) and solves scale and min by weighted least squares for each
// (llama.cpp's make_qkx2_quants); n <= 32.
float FitScaleMin(const float* x, const float* w, int n, int nmax, ScaleSearch search, uint8_t* L, float* min_out);

// x ~= scale * (L - nmax), L in 0..2*nmax-1: the value of largest magnitude anchors the grid (its
// sign kept in the scale, so it can use -nmax); kSearch tries 19 nearby grids and keeps the one
// whose least-squares scale explains most of x (make_qx_quants); n <= 32.
float FitScaleSymmetric(const float* x, const float* w, int n, int nmax, ScaleSearch search, int8_t* L);

// x ~= scale * kIq4nlValues[L]: the largest value near the grid's end (-127), then (kSearch) 15
// candidate grids, each with its least-squares scale; n <= 32.
float FitScaleIq4(const float* x, const float* w, int n, ScaleSearch search, uint8_t* L);
// Index of the grid value nearest v.
int NearestIq4(float v);

// sum_i w_i (x_i - y_i)^2 (what the search minimises; the tests and measurements report it).
double WeightedSquaredError(const float* x, const float* y, const float* w, int64_t n);

}  // namespace accel::quant
