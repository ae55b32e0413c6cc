#pragma once
// Mixed precision: a type per projection for a bits-per-weight budget, chosen by measured
// sensitivity (`accel quantize --mixed auto --target-bpw X`).
//
// Sensitivity of a projection to a type: its relative reconstruction error under that type,
// sum_ij imp_j (w_ij - wq_ij)^2 / sum_ij imp_j w_ij^2, with imp_j the importance matrix's mean
// squared activation of input column j (1 without one). For a Linear that is the expected
// relative error of its output when only it is quantized (columns taken as independent), so the
// errors of different layers are comparable. Projections fused at load (q|k|v, gate|up) share a
// type, so they are planned as one group.
//
// The plan starts every group at its cheapest type and then, greedily, takes the upgrade with
// the largest error decrease per added bit that still fits the budget, until none does.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/imatrix_file.h"
#include "formats/model_source.h"
#include "formats/quant_search.h"

namespace accel {

struct MixedPlanRow {
  std::string group;  // "model.layers.0.self_attn.{q,k,v}_proj", ...
  DType type;
  int64_t elements;
  double error;       // relative, as above
};

struct MixedPlan {
  std::map<std::string, DType> types;  // HF weight name -> its type
  double bpw = 0;                      // of the planned projections
  double target_bpw = 0;
  std::vector<MixedPlanRow> rows;
};

// Plans every 2-D projection of `weights` ("..._proj.weight" and "lm_head.weight"). Candidates:
// Q2_K, Q3_K, IQ4_XS, Q4_K, Q5_K, Q6_K, Q8_0 for rows of whole 256s; Q4_0 and Q8_0 otherwise.
// An error when even the cheapest types exceed the target.
Result<MixedPlan> PlanMixedPrecision(WeightStore& weights, double target_bpw, const Imatrix* imatrix, quant::ScaleSearch search);

// Bits per weight of a dtype (block bytes * 8 / block elements).
double BitsPerWeight(DType t);

}  // namespace accel
