#pragma once
// What a model's forward pass talks to: a backend to run operators and an arena for the
// activations. The helpers allocate each op's output and check shapes, so model code reads
// as the math it implements.
#include <string>

#include "core/arena.h"
#include "graph/backend.h"

namespace accel {

// A linear layer prepared for a backend: packed weight plus optional bias.
struct LinearLayer {
  PackedLinear weight;
  Tensor bias;  // undefined when the layer has none
  const Tensor* bias_ptr() const { return bias.defined() ? &bias : nullptr; }
};

class Exec {
 public:
  Exec(Backend& backend, Arena& arena) : backend_(backend), arena_(arena) {}
  Backend& backend() { return backend_; }
  Arena& arena() { return arena_; }

  Result<Tensor> Alloc(Shape shape) { return arena_.Allocate(DType::kF32, std::move(shape)); }
  Result<Tensor> Linear(const Tensor& x, const LinearLayer& layer, Activation act = Activation::kNone);
  Result<Tensor> LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps);
  Result<Tensor> Add(const Tensor& a, const Tensor& b);
  Result<Tensor> Embedding(const Tensor& table, const Tensor& ids);
  // Self-attention over [B, S, H*D] q/k/v (possibly strided views of one fused projection).
  Result<Tensor> Attention(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, int64_t batch,
                           int64_t q_len, int64_t kv_len, const AttentionParams& p);

 private:
  Backend& backend_;
  Arena& arena_;
};

}  // namespace accel
