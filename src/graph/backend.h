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
#include <span>
#include <string_view>

#include "core/arena.h"
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

// Rotary position embedding: in each head the first `rotary_dim` dims rotate by angle
// position * inv_freq[i] (rotary_dim / 2 frequencies). Pairs are (i, i + rotary_dim/2)
// ("rotate_half", HF LLaMA/NeoX) or (2i, 2i+1) when `interleaved` (GPT-J, GGUF llama).
// `inv_freq` is a small host-side parameter vector ([rotary_dim / 2]), not tensor data.
struct RopeParams {
  int num_heads = 0;
  int head_dim = 0;
  int rotary_dim = 0;
  bool interleaved = false;
  std::span<const float> inv_freq;
  float attention_factor = 1.0f;  // multiplies cos and sin (YaRN/LongRoPE style scaling)
};

// Attention of new queries q [batch, q_len, heads * head_dim] (may be a strided view) against a
// KV cache k/v [batch, capacity, kv_heads * head_dim] of which slots [0, kv_len) are filled.
// The cache is f32, or q8_0 / q4_0 blocks of 32 along each head (head_dim % 32 == 0) on a
// backend whose Supports(kCachedAttention, that dtype) says so.
// Query i of batch b sits at slot params.query_offset + i; keys are visible subject to
// causal/sliding window and `allowed` (u8 [batch, capacity], nonzero = attend). With
// `alibi_slopes` (f32 [num_heads]) the score of key j gets slope[h] * key_positions[b, j]
// (f32 [batch, capacity]) added (BLOOM's ALiBi).
struct CachedAttentionArgs {
  Tensor q, k, v;
  int64_t kv_len = 0;
  Tensor allowed;
  Tensor alibi_slopes;   // undefined: no ALiBi
  Tensor key_positions;  // with alibi_slopes
};

struct AttentionParams {
  int num_heads = 0;
  int num_kv_heads = 0;  // < num_heads for grouped-query attention
  int head_dim = 0;
  float scale = 1.0f;
  bool causal = false;
  int sliding_window = 0;  // 0 = unlimited; else a query sees this many keys including itself
  // Optional [batch, kv_len] mask, nonzero = attend (HF attention_mask), i64 or f32, on the
  // backend's device.
  const Tensor* key_padding_mask = nullptr;
  // Offset of the first query within the key sequence (decoding with a KV cache).
  int64_t query_offset = 0;
};

// Every operator, for capability queries and the fallback/copy statistics.
enum class Op : uint8_t {
  kLinear, kLayerNorm, kRmsNorm, kActivate, kSoftmax, kAdd, kMul, kScale, kAttention, kAttentionWithBias,
  kCachedAttention, kRope, kGatedActivation, kEmbedding, kConv1d, kConv2d, kTransposeLast2, kGroupNorm, kMaxPool2d, kCopy,
  kQuantizeRows, kCount
};
std::string_view OpName(Op op);

// The check every backend's Upload/Download/Copy makes: same dtype and shape on both sides.
Status CheckSameLayout(const Tensor& src, const Tensor& dst, std::string_view what);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // ---- memory: the backend owns its device's memory ----
  virtual Device device() const { return {}; }
  // Blocks for the activation arena of an Exec on this backend.
  virtual BlockAllocator& allocator() { return HostAllocator::Instance(); }
  // A persistent zero-filled tensor on this device (KV caches, uploaded weights).
  virtual Result<Tensor> Allocate(DType dtype, Shape shape);
  // Copies a host tensor into `dst` (this device, same dtype and shape; dst may be a strided view).
  virtual Status Upload(const Tensor& host, Tensor& dst);
  // Copies `src` (this device) into a host tensor of the same dtype and shape.
  virtual Status Download(const Tensor& src, Tensor& host);
  // Waits for all work queued on this device.
  virtual Status Synchronize() { return Status::Ok(); }

  // ---- capabilities ----
  // Whether `op` runs natively here for activations of `dtype` (for kCachedAttention and
  // kQuantizeRows: the KV cache's dtype); what does not falls back to the
  // CPU (graph/exec.h), with the copies counted. The attention ops may also decline one call's
  // shape by returning Unsupported before writing anything; that call falls back too.
  virtual bool Supports(Op op, DType dtype) const { return dtype == DType::kF32; }

  // W is [N, K] (HF's nn.Linear layout) in f32/f16/bf16; `compute` picks the arithmetic.
  virtual Result<PackedLinear> PackLinear(const Tensor& w, DType compute) = 0;
  // y[M, N] = act(x[M, K] W^T + bias)
  virtual Status Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) = 0;

  // Normalise over the last dimension; `beta` may be null. x and y may be strided views (and the
  // same tensor). RmsNorm with a gamma narrower than the row normalises each gamma-wide group
  // of the row on its own (per-head q/k norms).
  virtual Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) = 0;
  virtual Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) = 0;
  virtual Status Activate(Activation act, Tensor& x) = 0;                    // in place
  virtual Status Softmax(Tensor& x) = 0;                                     // in place, last dim
  virtual Status Add(const Tensor& a, const Tensor& b, Tensor& y) = 0;       // b same shape, or broadcast over rows
  virtual Status Mul(const Tensor& a, const Tensor& b, Tensor& y) = 0;       // elementwise, same shape

  // q [B, Sq, Hq*D], k/v [B, Skv, Hkv*D], each possibly a strided view (slices of a fused QKV
  // projection pass without copies); out [B, Sq, Hq*D].
  virtual Status Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) = 0;

  // out[i, :] = table[ids[i], :]; ids i64/i32; errors on out-of-range ids.
  virtual Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) = 0;

  // x [B, Cin, L] -> y [B, Cout, Lout]; w [Cout, Cin/groups, Kw].
  virtual Status Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                        Tensor& y) = 0;
  // x [B, Cin, H, W] -> y [B, Cout, Ho, Wo]; w [Cout, Cin/groups, Kh, Kw].
  virtual Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                        Tensor& y) = 0;

  // x [B, R, C] (rank 2: B = 1) -> y [B, C, R]: channels-first conv maps <-> token sequences.
  virtual Status TransposeLast2(const Tensor& x, Tensor& y) = 0;
  // x [B, C, L]: normalise each of `groups` channel groups over (C / groups, L), then scale and
  // shift per channel (torch.nn.GroupNorm). `beta` may be null.
  virtual Status GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) = 0;
  // x [B, C, H, W] -> y [B, C, Ho, Wo], Ho = (H + 2 * padding - kernel) / stride + 1: the maximum
  // over each kernel x kernel window, padding never chosen (torch.nn.MaxPool2d, ResNet's stem).
  virtual Status MaxPool2d(const Tensor& x, int kernel, int stride, int padding, Tensor& y) = 0;
  // Attention as above plus an additive score bias [num_heads, q_len, kv_len] shared by the
  // batch, added after scaling and before masking/softmax (T5's relative position bias).
  virtual Status AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                                   const Tensor& score_bias, Tensor& out) = 0;

  // ---- text generation: decoders with a KV cache ----
  // Rotates x [rows, >= num_heads * head_dim] in place (a strided view); positions i64 [rows].
  virtual Status Rope(Tensor& x, const Tensor& positions, const RopeParams& p) = 0;
  virtual Status CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out) = 0;
  // out[M, F] = act(gate_up[:, :F]) * gate_up[:, F:] (fused [gate; up] projection output).
  virtual Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) = 0;
  // x *= s, in place.
  virtual Status Scale(Tensor& x, float s) = 0;

  // ---- data movement ----
  // dst = src, both on this device with the same shape and dtype; either may be a strided view.
  virtual Status Copy(const Tensor& src, Tensor& dst);
  // dst (q8_0 / q4_0, contiguous rows) = src (f32 of the same shape, rows may be strided)
  // quantized row by row, blocks of 32 along the last dimension: KV-cache appends. The default
  // declines (Unsupported) without writing anything.
  virtual Status QuantizeRows(const Tensor& src, Tensor& dst);
};

}  // namespace accel
