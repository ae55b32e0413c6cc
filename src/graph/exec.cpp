#include "graph/exec.h"

namespace accel {

namespace {
Shape WithLastDim(const Shape& s, int64_t last) {
  Shape out = s;
  out.back() = last;
  return out;
}
}  // namespace

Result<Tensor> Exec::Linear(const Tensor& x, const LinearLayer& layer, Activation act) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(WithLastDim(x.shape(), layer.weight.out_features)));
  ACCEL_RETURN_IF_ERROR(backend_.Linear(x, layer.weight, layer.bias_ptr(), act, y));
  return y;
}

Result<Tensor> Exec::LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(x.shape()));
  ACCEL_RETURN_IF_ERROR(backend_.LayerNorm(x, gamma, beta, eps, y));
  return y;
}

Result<Tensor> Exec::Add(const Tensor& a, const Tensor& b) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(a.shape()));
  ACCEL_RETURN_IF_ERROR(backend_.Add(a, b, y));
  return y;
}

Result<Tensor> Exec::Embedding(const Tensor& table, const Tensor& ids) {
  Shape s = ids.shape();
  s.push_back(table.dim(-1));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(std::move(s)));
  ACCEL_RETURN_IF_ERROR(backend_.Embedding(table, ids, y));
  return y;
}

Result<Tensor> Exec::Attention(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride,
                               int64_t batch, int64_t q_len, int64_t kv_len, const AttentionParams& p) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({batch, q_len, static_cast<int64_t>(p.num_heads) * p.head_dim}));
  ACCEL_RETURN_IF_ERROR(backend_.Attention(q, q_stride, k, v, kv_stride, batch, q_len, kv_len, p, y));
  return y;
}

}  // namespace accel
