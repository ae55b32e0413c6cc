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
};

}  // namespace accel
