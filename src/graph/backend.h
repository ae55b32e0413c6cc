#pragma once
// The contract between models and hardware. A model describes its computation as calls to
// these backend-independent operators (through graph/exec.h); a backend implements them.
// Models never name a backend, and backends never know which model is calling.
//
// Layout conventions: activations are row-major [rows, features]; sequences are
// [batch, seq, heads * head_dim] straight out of the projections, so attention reads q/k/v
// with strides instead of materialising transposes.
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/tensor.h"

namespace accel {

enum class Activation : uint8_t { kNone, kGeluErf, kGeluTanh, kQuickGelu, kSilu, kRelu, kTanh };

// Parses HF's `hidden_act` spellings ("gelu", "gelu_new", "quick_gelu", "silu", ...).
Result<Activation> ActivationFromHf(std::string_view name);

// A weight prepared once for repeated use as the right-hand side of Linear: y = x W^T + b.
// What `data` holds (packed panels, another dtype, a device buffer) is the backend's business.
struct PackedLinear {
  int64_t out_features = 0;  // N
  int64_t in_features = 0;   // K
  DType compute = DType::kF32;
  std::shared_ptr<const void> data;
};

// ---- text generation (issue 4) ----
// Rotary position embedding: in each head the first `rotary_dim` dims rotate by angle
// position * inv_freq[i] (rotary_dim / 2 frequencies). Pairs are (i, i + rotary_dim/2)
// ("rotate_half", HF LLaMA/NeoX) or (2i, 2i+1) when `interleaved` (GPT-J, GGUF llama).
struct RopeParams {
  int num_heads = 0;
  int head_dim = 0;
  int rotary_dim = 0;
  bool interleaved = false;
  const float* inv_freq = nullptr;  // [rotary_dim / 2]
  float attention_factor = 1.0f;    // multiplies cos and sin (YaRN/LongRoPE style scaling)
};

// Attention of new queries against a KV cache laid out [batch, capacity, kv_heads * head_dim]
// (rows kv_row_stride apart, batches kv_batch_stride apart). Query i of batch b sits at slot
// params.query_offset + i; keys [0, kv_len) are visible subject to causal/sliding window and
// `allowed` ([batch, mask_stride], nonzero = attend). With `alibi_slopes` ([num_heads]) the score
// of key j gets slope[h] * key_positions[b * mask_stride + j] added (BLOOM's ALiBi).
struct CachedAttentionArgs {
  const float* q = nullptr;
  int64_t q_stride = 0;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t kv_row_stride = 0, kv_batch_stride = 0;
  int64_t batch = 0, q_len = 0, kv_len = 0;
  const uint8_t* allowed = nullptr;
  int64_t mask_stride = 0;
  const float* alibi_slopes = nullptr;
  const float* key_positions = nullptr;
};

struct AttentionParams {
  int num_heads = 0;
  int num_kv_heads = 0;  // < num_heads for grouped-query attention
  int head_dim = 0;
  float scale = 1.0f;
  bool causal = false;
  int sliding_window = 0;  // 0 = unlimited; else a query sees this many keys including itself
  // Optional [batch, kv_len] mask, nonzero = attend (HF attention_mask), i64 or f32.
  const Tensor* key_padding_mask = nullptr;
  // Offset of the first query within the key sequence (decoding with a KV cache).
  int64_t query_offset = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // W is [N, K] (HF's nn.Linear layout) in f32/f16/bf16; `compute` picks the arithmetic.
  virtual Result<PackedLinear> PackLinear(const Tensor& w, DType compute) = 0;
  // y[M, N] = act(x[M, K] W^T + bias)
  virtual Status Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) = 0;

  // Normalise over the last dimension; `beta` may be null.
  virtual Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) = 0;
  virtual Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) = 0;
  virtual Status Activate(Activation act, Tensor& x) = 0;                    // in place
  virtual Status Softmax(Tensor& x) = 0;                                     // in place, last dim
  virtual Status Add(const Tensor& a, const Tensor& b, Tensor& y) = 0;       // b same shape, or broadcast over rows
  virtual Status Mul(const Tensor& a, const Tensor& b, Tensor& y) = 0;       // elementwise, same shape

  // q [B, Sq, Hq*D], k/v [B, Skv, Hkv*D] with row strides q_stride/kv_stride (elements) so that
  // slices of a fused QKV projection can be passed without copies; out [B, Sq, Hq*D].
  virtual Status Attention(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride,
                           int64_t batch, int64_t q_len, int64_t kv_len, const AttentionParams& p, Tensor& out) = 0;

  // out[i, :] = table[ids[i], :]; ids i64/i32; errors on out-of-range ids.
  virtual Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) = 0;

  // x [B, Cin, L] -> y [B, Cout, Lout]; w [Cout, Cin/groups, Kw].
  virtual Status Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                        Tensor& y) = 0;
  // x [B, Cin, H, W] -> y [B, Cout, Ho, Wo]; w [Cout, Cin/groups, Kh, Kw].
  virtual Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                        Tensor& y) = 0;

  // --- vision / audio / encoder-decoder ops (issue 5). Defaults report Unsupported so a
  // backend that lacks them still builds; the CPU backend implements them.
  // x [B, R, C] (rank 2: B = 1) -> y [B, C, R]: channels-first conv maps <-> token sequences.
  virtual Status TransposeLast2(const Tensor& x, Tensor& y);
  // x [B, C, L]: normalise each of `groups` channel groups over (C / groups, L), then scale and
  // shift per channel (torch.nn.GroupNorm). `beta` may be null.
  virtual Status GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y);
  // Attention as above plus an additive score bias [num_heads, q_len, kv_len] shared by the
  // batch, added after scaling and before masking/softmax (T5's relative position bias).
  virtual Status AttentionWithBias(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride,
                                   int64_t batch, int64_t q_len, int64_t kv_len, const AttentionParams& p,
                                   const float* score_bias, Tensor& out);

  // ---- text generation (issue 4): decoders with a KV cache ----
  // Defaults say Unsupported so backends that predate these ops still compile.
  // Rotates `rows` rows (row_stride floats apart) in place; positions[r] is row r's position.
  virtual Status Rope(float* x, int64_t rows, int64_t row_stride, const int64_t* positions, const RopeParams& p);
  // out [batch, q_len, num_heads * head_dim].
  virtual Status CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out);
  // out[M, F] = act(gate_up[:, :F]) * gate_up[:, F:] (fused [gate; up] projection output).
  virtual Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out);
  // x *= s, in place.
  virtual Status Scale(Tensor& x, float s);
};

}  // namespace accel
