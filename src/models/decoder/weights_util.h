#pragma once
// Loading helpers shared by the decoder templates: fusing projections into one GEMM,
// transposing GPT-2's Conv1D weights, regrouping per-head fused QKV layouts, norms.
#include <string>
#include <utility>
#include <vector>

#include "models/decoder/decoder_spec.h"
#include "models/model.h"

namespace accel::decoder {

// Rows of several [rows_i, in] weights stacked into one layer (biases likewise when `bias`).
// A single part is packed as stored (quantized weights stay quantized); several parts of one
// dtype are concatenated byte-wise, so fusing works for f32, f16 and block formats alike.
Result<LinearLayer> FusedLinear(ModelLoadContext& ctx, const std::vector<std::pair<std::string, int64_t>>& parts,
                                int64_t in, bool bias);
// Packs an in-memory [out, in] weight.
Result<LinearLayer> LinearFromTensor(ModelLoadContext& ctx, const Tensor& w, Tensor bias);
// GPT-2 Conv1D: stored [in, out], returned [out, in] f32.
Result<Tensor> TransposedF32(ModelLoadContext& ctx, const std::string& name, int64_t in, int64_t out);
// Fused QKV stored per head as [heads, 3, head_dim] rows (GPT-NeoX, BLOOM) -> [q; k; v] rows.
Tensor RegroupPerHeadQkv(const Tensor& w, int64_t heads, int64_t head_dim);
// LayerNorm/RMSNorm weights (+ bias); `add` is added to the weight (Gemma's x * (1 + w)).
Result<NormWeights> LoadNorm(ModelLoadContext& ctx, const std::string& prefix, int64_t width, bool bias, float add = 0.0f);
// BLOOM's ALiBi slopes for `heads` heads (the ALiBi paper's geometric sequence).
std::vector<float> AlibiSlopes(int64_t heads);

}  // namespace accel::decoder
