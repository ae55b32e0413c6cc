#pragma once
// Launchers for the CUDA backend's own kernels (cuda_kernels.cu). Plain types only: this header
// is shared by nvcc and the host compiler. Every launcher queues work on `stream` and returns
// at once; strides are in elements.
#include <cstdint>

#include <cuda_runtime.h>

namespace accel::cuda::kernels {

// Matches accel::Activation's order.
enum Act : int { kNone = 0, kGeluErf, kGeluTanh, kQuickGelu, kSilu, kRelu, kTanh };

void BiasActivation(float* y, int64_t rows, int64_t n, const float* bias, int act, cudaStream_t s);
void Activate(float* x, int64_t n, int act, cudaStream_t s);
void Scale(float* x, int64_t n, float factor, cudaStream_t s);
// y = a + b; b has n elements (same shape) or b_n < n elements repeated over rows.
void Add(const float* a, const float* b, int64_t n, int64_t b_n, float* y, cudaStream_t s);
void Mul(const float* a, const float* b, int64_t n, float* y, cudaStream_t s);
void GatedActivation(const float* gate_up, int64_t rows, int64_t f, int act, float* out, cudaStream_t s);
void LayerNorm(const float* x, int64_t x_stride, const float* gamma, const float* beta, float eps, int64_t rows, int64_t n,
               float* y, int64_t y_stride, cudaStream_t s);
// Normalises each `group`-wide slice of a row (group == n: the whole row).
void RmsNorm(const float* x, int64_t x_stride, const float* gamma, int64_t group, float eps, int64_t rows, int64_t n,
             float* y, int64_t y_stride, cudaStream_t s);
void Softmax(float* x, int64_t rows, int64_t n, cudaStream_t s);
// Ids outside [0, vocab) produce zero rows (the host validates ids before they are uploaded).
void Embedding(const float* table, int64_t vocab, int64_t width, const void* ids, bool ids_i64, int64_t n, float* out,
               cudaStream_t s);
void Rope(float* x, int64_t rows, int64_t stride, const int64_t* positions, const float* inv_freq, int heads, int head_dim,
          int rotary_dim, bool interleaved, float factor, cudaStream_t s);
// x [batch, r, c] -> y [batch, c, r]
void TransposeLast2(const float* x, int64_t batch, int64_t r, int64_t c, float* y, cudaStream_t s);
void F32ToBf16(const float* x, int64_t n, uint16_t* y, cudaStream_t s);
void F32ToF16(const float* x, int64_t n, uint16_t* y, cudaStream_t s);

enum MaskKind : int { kMaskNone = 0, kMaskU8, kMaskI64, kMaskF32 };

struct AttentionArgs {
  const float* q = nullptr;
  int64_t q_row = 0, q_batch = 0;  // strides between query rows / batch items
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t kv_row = 0, kv_batch = 0;
  float* out = nullptr;  // dense [batch, q_len, heads * head_dim]
  int64_t batch = 0, q_len = 0, kv_len = 0;
  int heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 1.0f;
  int causal = 0, window = 0;
  int64_t query_offset = 0;
  const void* mask = nullptr;  // [batch, mask_row] nonzero = attend
  int mask_kind = kMaskNone;
  int64_t mask_row = 0;
  const float* bias = nullptr;  // [heads, q_len, kv_len] shared by the batch
  const float* alibi = nullptr;  // [heads], with key_pos [batch, key_pos_row]
  const float* key_pos = nullptr;
  int64_t key_pos_row = 0;
  // A query that sees no key: 1 = the mean of all kv_len values (HF's additive-mask softmax),
  // 0 = zeros (a padding query of a KV-cache step, never read).
  int empty_uniform = 1;
};
// Prefill (16+ queries, head_dim <= 128) runs a flash-style tiled kernel; fewer queries (decode)
// or wider heads run split-K over 256-key chunks, whose partial results need
// AttentionScratchBytes(a) of device scratch. Heads wider than MaxHeadDim() are not supported.
int64_t MaxHeadDim();
size_t AttentionScratchBytes(const AttentionArgs& a);
cudaError_t Attention(const AttentionArgs& a, float* scratch, cudaStream_t s);

}  // namespace accel::cuda::kernels
