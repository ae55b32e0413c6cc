#pragma once
// What a model's forward pass talks to: every operator goes through here. Exec allocates each
// op's output in the activation arena of the backend's device, checks shapes, and dispatches:
// an op the backend supports runs there; one it lacks runs on the host fallback backend with
// the copies made at the edges (download inputs, upload outputs) and counted in stats().
//
// The device contract for models:
// - activations live on the backend's device (Alloc, every op output);
// - per-request host data (ids, masks, positions, biases computed on the host) enters through
//   Upload(); results leave through Download();
// - host tensors passed to ops are constants (weights), which a device backend may mirror once.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/arena.h"
#include "graph/backend.h"

namespace accel {

// A linear layer prepared for a backend: packed weight plus optional bias.
struct LinearLayer {
  PackedLinear weight;
  Tensor bias;  // undefined when the layer has none
  // The checkpoint weights it was loaded from ("model.layers.0.mlp.down_proj.weight"; several
  // for a fused projection, whose parts share the input). Set by the loading helpers, read only
  // by a LinearObserver; empty for layers built from computed tensors.
  std::vector<std::string> sources;
  const Tensor* bias_ptr() const { return bias.defined() ? &bias : nullptr; }
};

// Sees the input of every Linear an Exec runs (importance-matrix collection). Installed on one
// Exec by the tool that wants it; models never know. x is on the host, [..., in_features].
class LinearObserver {
 public:
  virtual ~LinearObserver() = default;
  virtual Status OnLinear(const LinearLayer& layer, const Tensor& x) = 0;
};

// What crossed between the device and the host while running.
struct ExecStats {
  int64_t fallback_ops = 0;   // ops run on the host fallback
  int64_t edge_copies = 0;    // tensors copied for them (both directions)
  int64_t edge_bytes = 0;
  int64_t uploads = 0;        // explicit Upload() of request data
  int64_t downloads = 0;      // explicit Download() of results
  std::array<int64_t, static_cast<size_t>(Op::kCount)> fallbacks_by_op{};
  // "Conv2d x2, GroupNorm x4" (empty when nothing fell back).
  std::string FallbackSummary() const;
  void Add(const ExecStats& o);
};

class Exec {
 public:
  // `fallback` runs what `backend` does not support (null: no fallback, the backend's own error).
  Exec(Backend& backend, Arena& arena, Backend* fallback = nullptr);

  Arena& arena() { return arena_; }
  Device device() const { return backend_.device(); }
  std::string_view backend_name() const { return backend_.name(); }
  // Whether the backend itself runs `op` for `dtype` (no host fallback): a KV cache is only
  // created in a dtype its backend attends over.
  bool BackendSupports(Op op, DType dtype) const { return backend_.Supports(op, dtype); }
  const ExecStats& stats() const { return stats_; }
  // Null (the default) observes nothing and costs one pointer test per Linear.
  void set_linear_observer(LinearObserver* observer) { observer_ = observer; }

  // ---- memory ----
  Result<Tensor> Alloc(Shape shape, DType dtype = DType::kF32) { return arena_.Allocate(dtype, std::move(shape)); }
  // Zero-filled memory on the backend's device that outlives the pass (KV caches).
  Result<Tensor> AllocPersistent(Shape shape, DType dtype = DType::kF32) { return backend_.Allocate(dtype, std::move(shape)); }
  // Request data onto the device (the host tensor itself on a host backend).
  Result<Tensor> Upload(const Tensor& host);
  // An owning, contiguous host copy of a result.
  Result<Tensor> Download(const Tensor& t);
  // dst = src (same shape; either may be a strided view): KV-cache appends, row gathers, slices.
  Status Copy(const Tensor& src, Tensor& dst);
  // dst = src converted to dst's dtype: a Copy for the same dtype, f32 rows quantized into
  // q8_0 / q4_0 rows otherwise (KV-cache appends).
  Status StoreRows(const Tensor& src, Tensor& dst);

  // ---- ops that allocate their output ----
  Result<Tensor> Linear(const Tensor& x, const LinearLayer& layer, Activation act = Activation::kNone);
  Result<Tensor> LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps);
  Result<Tensor> RmsNorm(const Tensor& x, const Tensor& gamma, float eps);
  Result<Tensor> Add(const Tensor& a, const Tensor& b);
  Result<Tensor> Embedding(const Tensor& table, const Tensor& ids);
  // Self- or cross-attention over [B, S, H*D] q/k/v (possibly strided views of one projection).
  Result<Tensor> Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p);
  Result<Tensor> AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                                   const Tensor& score_bias);
  Result<Tensor> CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p);
  Result<Tensor> GatedActivation(const Tensor& gate_up, Activation act);
  Result<Tensor> Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups);
  Result<Tensor> Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups);
  Result<Tensor> TransposeLast2(const Tensor& x);
  Result<Tensor> GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps);
  Result<Tensor> MaxPool2d(const Tensor& x, int kernel, int stride, int padding);

  // ---- ops into a given output (which may alias an input) ----
  Status AddInto(const Tensor& a, const Tensor& b, Tensor& y);
  Status MulInto(const Tensor& a, const Tensor& b, Tensor& y);
  Status RmsNormInto(const Tensor& x, const Tensor& gamma, float eps, Tensor& y);
  Status Activate(Activation act, Tensor& x);
  Status Softmax(Tensor& x);
  Status Scale(Tensor& x, float s);
  Status Rope(Tensor& x, const Tensor& positions, const RopeParams& p);

 private:
  class HostEdge;
  bool Native(Op op, DType dtype) const { return fallback_ == nullptr || backend_.Supports(op, dtype); }
  // Attention kernels (and MaxPool2d) may decline a shape (an Unsupported status, before writing
  // anything): it then runs on the host fallback. Keeps any other status in last_native_.
  bool Declined(Status s) {
    last_native_ = std::move(s);
    return last_native_.code() == StatusCode::kUnsupported && fallback_ != nullptr;
  }
  // Runs `op` on the fallback with host copies of `ins` and `outs`, then uploads `outs`.
  template <typename F>
  Status OnHost(Op op, std::initializer_list<const Tensor*> ins, std::initializer_list<Tensor*> outs, F&& run);

  Backend& backend_;
  Arena& arena_;
  Backend* fallback_;
  Status last_native_;
  ExecStats stats_;
  LinearObserver* observer_ = nullptr;
};

}  // namespace accel
