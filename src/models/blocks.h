#pragma once
// Pieces shared by the vision / audio / encoder-decoder models (ViT, CLIP, Whisper, Wav2Vec2):
// fused q/k/v loading, the pre-LN and post-LN transformer layers, and small tensor glue
// (row gathers, copying out of the arena). The models differ in weight names and in how the
// pieces are arranged, which each model's file spells out.
#include <string>
#include <vector>

#include "models/model.h"

namespace accel::blocks {

// Concatenates q, k, v projections ([out, in] each) into one [3*out, in] layer. A projection
// whose bias is absent from the checkpoint (Whisper's k_proj) gets a zero bias.
Result<LinearLayer> LoadFusedQkv(ModelLoadContext& ctx, const std::string& q, const std::string& k, const std::string& v,
                                 int64_t out, int64_t in);

struct LayerNames {
  std::string ln1, q, k, v, o, ln2, fc1, fc2;
};

// One transformer encoder layer with biased LayerNorms and a two-layer MLP.
struct TransformerLayer {
  Tensor ln1_w, ln1_b, ln2_w, ln2_b;
  LinearLayer qkv, out, fc1, fc2;
};

Result<TransformerLayer> LoadLayer(ModelLoadContext& ctx, const LayerNames& names, int64_t hidden, int64_t ffn);

struct LayerOptions {
  float eps = 1e-5f;
  Activation act = Activation::kGeluErf;
  AttentionParams attention;  // heads, scale, causal, padding mask
};

// Pre-LN: x + Attn(LN1(x)), then + MLP(LN2(.)). x is [batch, seq, hidden].
Result<Tensor> PreLnForward(Exec& ex, const TransformerLayer& l, const Tensor& x, const LayerOptions& o);
// Post-LN: LN1(x + Attn(x)), then LN2(. + MLP(.)).
Result<Tensor> PostLnForward(Exec& ex, const TransformerLayer& l, const Tensor& x, const LayerOptions& o);

// Rows `index[b]` of each batch item of x [B, S, H] -> [B, H].
Result<Tensor> GatherRows(Exec& ex, const Tensor& x, const std::vector<int64_t>& index);

// pixel_values [B, C, H, W] through a stride-`patch` Conv2d -> patch tokens [B, N, D].
Result<Tensor> PatchEmbed(Exec& ex, const Tensor& pixels, const Tensor& weight, const Tensor* bias, int64_t patch,
                          int64_t image_size);

// [prefix tokens (each [D]); patches [B, N, D]] + positions [P + N, D] -> [B, P + N, D].
Result<Tensor> PrependAndPosition(Exec& ex, const std::vector<const Tensor*>& prefix, const Tensor& patches,
                                  const Tensor& positions);

// Reads an integer id tensor element as int64 (i64 or i32).
int64_t IdAt(const Tensor& ids, size_t i);

// Checks an integer [batch, seq] tensor named `name`.
Status CheckIds(const Tensor& t, const std::string& name);

// AttentionParams for standard scaled-dot-product multi-head attention.
AttentionParams MultiHead(int64_t hidden, int64_t heads);

// Finds an input by name or returns null.
const Tensor* FindInput(const TensorMap& inputs, const std::string& name);

}  // namespace accel::blocks
