#pragma once
// The CPU backend: packed-panel SIMD GEMM (AVX-512 / AVX2 / generic, chosen at run time),
// row-wise kernels compiled per ISA, everything parallel on the process thread pool.
#include "graph/backend.h"

namespace accel {
class ThreadPool;

// Not final: tests derive from it to observe what the models hand it (e.g. the dtypes they pack).
class CpuBackend : public Backend {
 public:
  explicit CpuBackend(ThreadPool& pool);
  std::string_view name() const override { return "cpu"; }
  // Every op in f32 (bf16/f16 are weight and arithmetic formats here, not activation dtypes);
  // KV caches also in q8_0 / q4_0 (CachedAttention reads them, QuantizeRows writes them).
  bool Supports(Op op, DType dtype) const override {
    if (op == Op::kCachedAttention || op == Op::kQuantizeRows) {
      return dtype == DType::kF32 || dtype == DType::kQ8_0 || dtype == DType::kQ4_0;
    }
    return dtype == DType::kF32;
  }

  Result<PackedLinear> PackLinear(const Tensor& w, DType compute) override;
  Status Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) override;
  Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override;
  Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) override;
  Status Activate(Activation act, Tensor& x) override;
  Status Softmax(Tensor& x) override;
  Status Add(const Tensor& a, const Tensor& b, Tensor& y) override;
  Status Mul(const Tensor& a, const Tensor& b, Tensor& y) override;
  Status Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) override;
  Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) override;
  Status Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                Tensor& y) override;
  Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                Tensor& y) override;

  // vision / audio / encoder-decoder ops (issue 5): cpu_seq_ops.cpp; AttentionWithBias in cpu_backend.cpp
  Status TransposeLast2(const Tensor& x, Tensor& y) override;
  Status GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override;
  Status MaxPool2d(const Tensor& x, int kernel, int stride, int padding, Tensor& y) override;  // cpu_conv.cpp
  Status AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                           const Tensor& score_bias, Tensor& out) override;

  // ---- text generation (issue 4): cpu_decoder_ops.cpp, quantized Linear in cpu_quant_linear.cpp ----
  Status Rope(Tensor& x, const Tensor& positions, const RopeParams& p) override;
  Status CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out) override;
  Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) override;
  Status Scale(Tensor& x, float s) override;
  Status QuantizeRows(const Tensor& src, Tensor& dst) override;

 private:
  Result<PackedLinear> PackQuantizedLinear(const Tensor& w);
  Status QuantizedLinear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y);
  // Attention and AttentionWithBias (score_bias null for the former) on the per-ISA row kernels.
  Status BiasedAttention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                         const float* score_bias, Tensor& out);
  ThreadPool& pool_;
};

}  // namespace accel
