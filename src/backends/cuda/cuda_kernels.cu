// The CUDA backend's own kernels: row-wise ops (norms, softmax), element-wise ops, RoPE,
// embedding, layout changes and attention. Matrix products go to cuBLAS (cuda_backend.cpp).
// Arithmetic follows the CPU backend's formulas so that both agree within float rounding.
#include "backends/cuda/cuda_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cfloat>

namespace accel::cuda::kernels {

namespace {

constexpr int kThreads = 256;

int Blocks(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<int>(b < 65535 * 32 ? (b > 0 ? b : 1) : 65535 * 32);
}

__device__ __forceinline__ float Apply(int act, float x) {
  switch (act) {
    case kGeluErf: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case kGeluTanh: return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case kQuickGelu: return x / (1.0f + expf(-1.702f * x));
    case kSilu: return x / (1.0f + expf(-x));
    case kRelu: return x > 0.0f ? x : 0.0f;
    case kTanh: return tanhf(x);
    default: return x;
  }
}

__device__ __forceinline__ float WarpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float WarpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Block-wide reductions; `scratch` holds 32 floats. Every thread gets the result.
__device__ float BlockSum(float v, float* scratch) {
  v = WarpSum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0f;
  return WarpSum(v);
}
__device__ float BlockMax(float v, float* scratch) {
  v = WarpMax(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -FLT_MAX;
  return WarpMax(v);
}

#define ACCEL_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void BiasActivationKernel(float* y, int64_t total, int64_t n, const float* bias, int act) {
  ACCEL_GRID_LOOP(i, total) {
    float v = y[i] + (bias ? bias[i % n] : 0.0f);
    y[i] = Apply(act, v);
  }
}

__global__ void ScaleKernel(float* x, int64_t n, float f) {
  ACCEL_GRID_LOOP(i, n) x[i] *= f;
}

__global__ void AddKernel(const float* a, const float* b, int64_t n, int64_t bn, float* y) {
  ACCEL_GRID_LOOP(i, n) y[i] = a[i] + b[bn == n ? i : i % bn];
}

__global__ void MulKernel(const float* a, const float* b, int64_t n, float* y) {
  ACCEL_GRID_LOOP(i, n) y[i] = a[i] * b[i];
}

__global__ void GatedKernel(const float* gu, int64_t rows, int64_t f, int act, float* out) {
  ACCEL_GRID_LOOP(i, rows * f) {
    const int64_t r = i / f, c = i % f;
    out[i] = Apply(act, gu[r * 2 * f + c]) * gu[r * 2 * f + f + c];
  }
}

// One block per row: mean and variance in two passes over the row (as the CPU does).
__global__ void LayerNormKernel(const float* x, int64_t xs, const float* g, const float* b, float eps, int64_t n, float* y,
                                int64_t ys) {
  __shared__ float scratch[32];
  const float* xr = x + blockIdx.x * xs;
  float* yr = y + blockIdx.x * ys;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += xr[i];
  const float mean = BlockSum(s, scratch) / static_cast<float>(n);
  float v = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float d = xr[i] - mean;
    v += d * d;
  }
  const float inv = rsqrtf(BlockSum(v, scratch) / static_cast<float>(n) + eps);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] - mean) * inv * g[i] + (b ? b[i] : 0.0f);
}

// One block per (row, group).
__global__ void RmsNormKernel(const float* x, int64_t xs, const float* g, int64_t group, float eps, int64_t groups, float* y,
                              int64_t ys) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x / groups, at = (blockIdx.x % groups) * group;
  const float* xr = x + row * xs + at;
  float* yr = y + row * ys + at;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < group; i += blockDim.x) s += xr[i] * xr[i];
  const float inv = rsqrtf(BlockSum(s, scratch) / static_cast<float>(group) + eps);
  // Every thread has read its elements before any writes: y may alias x.
  __syncthreads();
  for (int64_t i = threadIdx.x; i < group; i += blockDim.x) yr[i] = xr[i] * inv * g[i];
}

__global__ void SoftmaxKernel(float* x, int64_t n) {
  __shared__ float scratch[32];
  float* r = x + blockIdx.x * n;
  float m = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, r[i]);
  m = BlockMax(m, scratch);
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += expf(r[i] - m);
  const float inv = 1.0f / BlockSum(s, scratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) r[i] = expf(r[i] - m) * inv;
}

__global__ void EmbeddingKernel(const float* table, int64_t vocab, int64_t width, const void* ids, bool i64, int64_t n,
                                float* out) {
  ACCEL_GRID_LOOP(i, n * width) {
    const int64_t t = i / width, c = i % width;
    const int64_t id = i64 ? static_cast<const int64_t*>(ids)[t] : static_cast<const int32_t*>(ids)[t];
    out[i] = (id >= 0 && id < vocab) ? table[id * width + c] : 0.0f;
  }
}

// One thread per (row, head, pair); angles in double like the CPU backend.
__global__ void RopeKernel(float* x, int64_t rows, int64_t stride, const int64_t* pos, const float* inv_freq, int heads,
                           int head_dim, int half, bool interleaved, float factor) {
  ACCEL_GRID_LOOP(t, rows * heads * half) {
    const int64_t i = t % half, h = (t / half) % heads, r = t / (static_cast<int64_t>(half) * heads);
    const double angle = static_cast<double>(pos[r]) * static_cast<double>(inv_freq[i]);
    const float c = static_cast<float>(cos(angle)) * factor, s = static_cast<float>(sin(angle)) * factor;
    float* v = x + r * stride + h * head_dim;
    const int64_t i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
    const float a = v[i0], b = v[i1];
    v[i0] = a * c - b * s;
    v[i1] = b * c + a * s;
  }
}

__global__ void TransposeKernel(const float* x, int64_t batch, int64_t r, int64_t c, float* y) {
  ACCEL_GRID_LOOP(i, batch * r * c) {
    const int64_t b = i / (r * c), rc = i % (r * c), row = rc / c, col = rc % c;
    y[b * r * c + col * r + row] = x[i];
  }
}

__global__ void ToBf16Kernel(const float* x, int64_t n, __nv_bfloat16* y) {
  ACCEL_GRID_LOOP(i, n) y[i] = __float2bfloat16_rn(x[i]);
}
__global__ void ToF16Kernel(const float* x, int64_t n, __half* y) {
  ACCEL_GRID_LOOP(i, n) y[i] = __float2half_rn(x[i]);
}

__device__ __forceinline__ bool Allowed(const AttentionArgs& a, int64_t b, int64_t j) {
  const int64_t at = b * a.mask_row + j;
  switch (a.mask_kind) {
    case kMaskU8: return static_cast<const uint8_t*>(a.mask)[at] != 0;
    case kMaskI64: return static_cast<const int64_t*>(a.mask)[at] != 0;
    case kMaskF32: return static_cast<const float*>(a.mask)[at] != 0.0f;
    default: return true;
  }
}

// Split-K attention for few queries (decode): the visible keys of one (query, head, batch item)
// are cut into chunks of kSplitKeys, one block each, so a long context keeps every SM busy. A
// block's 8 warps score its keys (lanes split the head dimension, so K rows are read coalesced),
// then accumulate p * V over a share of the keys each and reduce in shared memory; it writes
// its chunk's max, sum and unnormalised output, which CombineSplitsKernel merges.
constexpr int kSplitKeys = 256, kSplitWarps = 8, kSplitDimChunks = 8;  // head_dim <= 256

__global__ void SplitAttentionKernel(AttentionArgs a, int64_t splits, float* partial) {
  __shared__ float scores[kSplitKeys];
  __shared__ float red[kSplitWarps * 32 * kSplitDimChunks];
  __shared__ float scratch[32];
  const int64_t i = blockIdx.x;
  const int h = blockIdx.y;
  const int64_t b = blockIdx.z / splits, split = blockIdx.z % splits;
  const int d = a.head_dim, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int kh = h / (a.heads / a.kv_heads);
  const int64_t pos = a.query_offset + i;
  const int64_t end = a.causal ? min(a.kv_len, pos + 1) : a.kv_len;
  const int64_t begin = a.window > 0 ? max(static_cast<int64_t>(0), pos - a.window + 1) : 0;
  const int64_t j0 = split * kSplitKeys;
  const int64_t n = max(static_cast<int64_t>(0), min(static_cast<int64_t>(kSplitKeys), a.kv_len - j0));
  const float* q = a.q + b * a.q_batch + i * a.q_row + static_cast<int64_t>(h) * d;
  const float* kb = a.k + b * a.kv_batch + static_cast<int64_t>(kh) * d;
  const float* vb = a.v + b * a.kv_batch + static_cast<int64_t>(kh) * d;
  float qr[kSplitDimChunks];
  for (int c = 0; c < kSplitDimChunks; ++c) qr[c] = lane + 32 * c < d ? q[lane + 32 * c] : 0.0f;
  float local_max = -FLT_MAX;
  for (int64_t jj = warp; jj < n; jj += kSplitWarps) {
    const int64_t j = j0 + jj;
    float v = -FLT_MAX;
    if (j >= begin && j < end && Allowed(a, b, j)) {
      const float* kr = kb + j * a.kv_row;
      float dot = 0.0f;
      for (int c = 0; c < kSplitDimChunks && lane + 32 * c < d; ++c) dot += qr[c] * kr[lane + 32 * c];
      v = WarpSum(dot) * a.scale;
      if (a.bias) v += a.bias[(static_cast<int64_t>(h) * a.q_len + i) * a.kv_len + j];
      if (a.alibi) v += a.alibi[h] * a.key_pos[b * a.key_pos_row + j];
    }
    if (lane == 0) scores[jj] = v;
    local_max = fmaxf(local_max, v);
  }
  const float mx = BlockMax(local_max, scratch);  // its barriers publish scores[]
  float local_sum = 0.0f;
  for (int64_t jj = threadIdx.x; jj < n; jj += blockDim.x) {
    const float p = scores[jj] == -FLT_MAX ? 0.0f : expf(scores[jj] - mx);
    scores[jj] = p;
    local_sum += p;
  }
  const float sum = BlockSum(local_sum, scratch);
  float acc[kSplitDimChunks] = {};
  if (mx != -FLT_MAX) {
    for (int64_t jj = warp; jj < n; jj += kSplitWarps) {
      const float p = scores[jj];
      if (p == 0.0f) continue;
      const float* vr = vb + (j0 + jj) * a.kv_row;
      for (int c = 0; c < kSplitDimChunks && lane + 32 * c < d; ++c) acc[c] += p * vr[lane + 32 * c];
    }
  }
  for (int c = 0; c < kSplitDimChunks; ++c) red[(warp * kSplitDimChunks + c) * 32 + lane] = acc[c];
  __syncthreads();
  float* out = partial + (((b * a.q_len + i) * a.heads + h) * splits + split) * (2 + d);
  if (threadIdx.x == 0) out[0] = mx, out[1] = sum;
  for (int e = threadIdx.x; e < d; e += blockDim.x) {
    float t = 0.0f;
    for (int w = 0; w < kSplitWarps; ++w) t += red[(w * kSplitDimChunks + e / 32) * 32 + e % 32];
    out[2 + e] = t;
  }
}

// out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M); a query that saw no key gets the mean of
// every value row (empty_uniform) or zeros.
__global__ void CombineSplitsKernel(AttentionArgs a, int64_t splits, const float* partial) {
  const int64_t i = blockIdx.x;
  const int h = blockIdx.y;
  const int64_t b = blockIdx.z;
  const int d = a.head_dim;
  const float* part = partial + ((b * a.q_len + i) * a.heads + h) * splits * (2 + d);
  float M = -FLT_MAX;
  for (int64_t s = 0; s < splits; ++s) M = fmaxf(M, part[s * (2 + d)]);
  float L = 0.0f;
  for (int64_t s = 0; s < splits; ++s) {
    const float m = part[s * (2 + d)];
    if (m != -FLT_MAX) L += part[s * (2 + d) + 1] * expf(m - M);
  }
  float* out = a.out + ((b * a.q_len + i) * a.heads + h) * static_cast<int64_t>(d);
  const int kh = h / (a.heads / a.kv_heads);
  const float* vb = a.v + b * a.kv_batch + static_cast<int64_t>(kh) * d;
  for (int e = threadIdx.x; e < d; e += blockDim.x) {
    float v = 0.0f;
    if (L > 0.0f) {
      for (int64_t s = 0; s < splits; ++s) {
        const float m = part[s * (2 + d)];
        if (m != -FLT_MAX) v += part[s * (2 + d) + 2 + e] * expf(m - M);
      }
      v /= L;
    } else if (a.empty_uniform) {
      for (int64_t j = 0; j < a.kv_len; ++j) v += vb[j * a.kv_row + e];
      v /= static_cast<float>(a.kv_len);
    }
    out[e] = v;
  }
}

// Flash-style attention for prefill (many queries): a block takes 16 queries of one (batch,
// head); its 4 warps stream 64-key tiles of K and V through shared memory, loaded once for all
// 16 queries with coalesced reads, and keep an online softmax (running max, sum and output) per
// query, so scores never leave registers. Lane l owns output dimensions l, l + 32, ...
constexpr int kTileQ = 16, kTileK = 64, kWarps = 4, kMaxDimChunks = 4;  // head_dim <= 128

__global__ void TiledAttentionKernel(AttentionArgs a) {
  extern __shared__ float smem[];
  const int d = a.head_dim, ks = d + 1;  // K rows padded by one float: lanes reading different keys hit different banks
  float* Ks = smem;
  float* Vs = Ks + kTileK * ks;
  float* Qs = Vs + kTileK * d;
  float* Ps = Qs + kTileQ * d;
  const int h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t b = blockIdx.z, q0 = static_cast<int64_t>(blockIdx.x) * kTileQ;
  const int kh = h / (a.heads / a.kv_heads);
  const int64_t nq = min(static_cast<int64_t>(kTileQ), a.q_len - q0);
  for (int t = threadIdx.x; t < kTileQ * d; t += blockDim.x) {
    const int64_t qi = t / d;
    Qs[t] = qi < nq ? a.q[b * a.q_batch + (q0 + qi) * a.q_row + static_cast<int64_t>(h) * d + t % d] : 0.0f;
  }
  // Keys any query of this block may see.
  const int64_t last_pos = a.query_offset + q0 + nq - 1, first_pos = a.query_offset + q0;
  const int64_t key_end = a.causal ? min(a.kv_len, last_pos + 1) : a.kv_len;
  const int64_t key_begin = a.window > 0 ? max(static_cast<int64_t>(0), first_pos - a.window + 1) : 0;
  float m[kTileQ / kWarps], l[kTileQ / kWarps], acc[kTileQ / kWarps][kMaxDimChunks];
  for (int i = 0; i < kTileQ / kWarps; ++i) {
    m[i] = -FLT_MAX, l[i] = 0.0f;
    for (int c = 0; c < kMaxDimChunks; ++c) acc[i][c] = 0.0f;
  }
  const float* kb = a.k + b * a.kv_batch + static_cast<int64_t>(kh) * d;
  const float* vb = a.v + b * a.kv_batch + static_cast<int64_t>(kh) * d;
  for (int64_t j0 = key_begin; j0 < key_end; j0 += kTileK) {
    __syncthreads();  // the previous tile is no longer read
    for (int t = threadIdx.x; t < kTileK * d; t += blockDim.x) {
      const int64_t j = j0 + t / d;
      const int e = t % d;
      const bool in = j < key_end;
      Ks[(t / d) * ks + e] = in ? kb[j * a.kv_row + e] : 0.0f;
      Vs[t] = in ? vb[j * a.kv_row + e] : 0.0f;
    }
    __syncthreads();
    for (int i = 0; i < kTileQ / kWarps; ++i) {
      const int qi = warp * (kTileQ / kWarps) + i;
      if (qi >= nq) break;
      const int64_t pos = a.query_offset + q0 + qi;
      const float* q = Qs + qi * d;
      float s[2];
      for (int half = 0; half < 2; ++half) {
        const int jj = lane + 32 * half;
        const int64_t j = j0 + jj;
        float v = -FLT_MAX;
        if (j < key_end && (!a.causal || j <= pos) && (a.window <= 0 || j > pos - a.window) && Allowed(a, b, j)) {
          const float* kr = Ks + jj * ks;
          float dot = 0.0f;
          for (int e = 0; e < d; ++e) dot += q[e] * kr[e];
          v = dot * a.scale;
          if (a.bias) v += a.bias[(static_cast<int64_t>(h) * a.q_len + q0 + qi) * a.kv_len + j];
          if (a.alibi) v += a.alibi[h] * a.key_pos[b * a.key_pos_row + j];
        }
        s[half] = v;
      }
      const float tile_max = WarpMax(fmaxf(s[0], s[1]));
      if (tile_max == -FLT_MAX) continue;  // nothing visible to this query in this tile
      const float m_new = fmaxf(m[i], tile_max);
      const float p0 = s[0] == -FLT_MAX ? 0.0f : expf(s[0] - m_new);
      const float p1 = s[1] == -FLT_MAX ? 0.0f : expf(s[1] - m_new);
      const float corr = m[i] == -FLT_MAX ? 0.0f : expf(m[i] - m_new);
      l[i] = l[i] * corr + WarpSum(p0 + p1);
      m[i] = m_new;
      float* p = Ps + warp * kTileK;
      p[lane] = p0;
      p[lane + 32] = p1;
      __syncwarp();
      for (int c = 0; c < kMaxDimChunks; ++c) {
        const int e = lane + 32 * c;
        if (e >= d) break;
        float sum = acc[i][c] * corr;
        for (int jj = 0; jj < kTileK; ++jj) sum += p[jj] * Vs[jj * d + e];
        acc[i][c] = sum;
      }
      __syncwarp();
    }
  }
  for (int i = 0; i < kTileQ / kWarps; ++i) {
    const int qi = warp * (kTileQ / kWarps) + i;
    if (qi >= nq) break;
    float* out = a.out + ((b * a.q_len + q0 + qi) * a.heads + h) * static_cast<int64_t>(d);
    for (int c = 0; c < kMaxDimChunks; ++c) {
      const int e = lane + 32 * c;
      if (e >= d) break;
      float v = 0.0f;
      if (l[i] > 0.0f) {
        v = acc[i][c] / l[i];
      } else if (a.empty_uniform) {  // no visible key: the mean of every value row (rare: a fully masked row)
        for (int64_t j = 0; j < a.kv_len; ++j) v += vb[j * a.kv_row + e];
        v /= static_cast<float>(a.kv_len);
      }
      out[e] = v;
    }
  }
}

constexpr int64_t kMaxSharedBytes = 200 * 1024;

}  // namespace

void BiasActivation(float* y, int64_t rows, int64_t n, const float* bias, int act, cudaStream_t s) {
  if (!bias && act == kNone) return;
  BiasActivationKernel<<<Blocks(rows * n), kThreads, 0, s>>>(y, rows * n, n, bias, act);
}
void Activate(float* x, int64_t n, int act, cudaStream_t s) { BiasActivation(x, 1, n, nullptr, act, s); }
void Scale(float* x, int64_t n, float f, cudaStream_t s) { ScaleKernel<<<Blocks(n), kThreads, 0, s>>>(x, n, f); }
void Add(const float* a, const float* b, int64_t n, int64_t bn, float* y, cudaStream_t s) {
  AddKernel<<<Blocks(n), kThreads, 0, s>>>(a, b, n, bn, y);
}
void Mul(const float* a, const float* b, int64_t n, float* y, cudaStream_t s) { MulKernel<<<Blocks(n), kThreads, 0, s>>>(a, b, n, y); }
void GatedActivation(const float* gu, int64_t rows, int64_t f, int act, float* out, cudaStream_t s) {
  GatedKernel<<<Blocks(rows * f), kThreads, 0, s>>>(gu, rows, f, act, out);
}
void LayerNorm(const float* x, int64_t xs, const float* g, const float* b, float eps, int64_t rows, int64_t n, float* y,
               int64_t ys, cudaStream_t s) {
  if (rows > 0) LayerNormKernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, xs, g, b, eps, n, y, ys);
}
void RmsNorm(const float* x, int64_t xs, const float* g, int64_t group, float eps, int64_t rows, int64_t n, float* y,
             int64_t ys, cudaStream_t s) {
  const int64_t groups = n / group;
  const int threads = group >= 256 ? 256 : 64;
  if (rows > 0) RmsNormKernel<<<static_cast<unsigned>(rows * groups), threads, 0, s>>>(x, xs, g, group, eps, groups, y, ys);
}
void Softmax(float* x, int64_t rows, int64_t n, cudaStream_t s) {
  if (rows > 0) SoftmaxKernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, n);
}
void Embedding(const float* table, int64_t vocab, int64_t width, const void* ids, bool i64, int64_t n, float* out,
               cudaStream_t s) {
  EmbeddingKernel<<<Blocks(n * width), kThreads, 0, s>>>(table, vocab, width, ids, i64, n, out);
}
void Rope(float* x, int64_t rows, int64_t stride, const int64_t* pos, const float* inv_freq, int heads, int head_dim,
          int rotary_dim, bool interleaved, float factor, cudaStream_t s) {
  const int half = rotary_dim / 2;
  RopeKernel<<<Blocks(rows * heads * half), kThreads, 0, s>>>(x, rows, stride, pos, inv_freq, heads, head_dim, half, interleaved,
                                                              factor);
}
void TransposeLast2(const float* x, int64_t batch, int64_t r, int64_t c, float* y, cudaStream_t s) {
  TransposeKernel<<<Blocks(batch * r * c), kThreads, 0, s>>>(x, batch, r, c, y);
}
void F32ToBf16(const float* x, int64_t n, uint16_t* y, cudaStream_t s) {
  ToBf16Kernel<<<Blocks(n), kThreads, 0, s>>>(x, n, reinterpret_cast<__nv_bfloat16*>(y));
}
void F32ToF16(const float* x, int64_t n, uint16_t* y, cudaStream_t s) {
  ToF16Kernel<<<Blocks(n), kThreads, 0, s>>>(x, n, reinterpret_cast<__half*>(y));
}

int64_t MaxHeadDim() { return 32 * kSplitDimChunks; }

size_t AttentionScratchBytes(const AttentionArgs& a) {
  if (a.q_len >= kTileQ && a.head_dim <= 32 * kMaxDimChunks) return 0;
  const int64_t splits = (a.kv_len + kSplitKeys - 1) / kSplitKeys;
  return sizeof(float) * static_cast<size_t>(a.batch * a.q_len * a.heads * splits * (2 + a.head_dim));
}

cudaError_t Attention(const AttentionArgs& a, float* scratch, cudaStream_t s) {
  if (a.batch <= 0 || a.q_len <= 0 || a.kv_len <= 0) return cudaSuccess;
  if (a.q_len >= kTileQ && a.head_dim <= 32 * kMaxDimChunks) {
    static bool tiled_raised = false;
    if (!tiled_raised) {
      cudaError_t e = cudaFuncSetAttribute(TiledAttentionKernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(kMaxSharedBytes));
      if (e != cudaSuccess) return e;
      tiled_raised = true;
    }
    const size_t shared =
        sizeof(float) * static_cast<size_t>(kTileK * (a.head_dim + 1) + kTileK * a.head_dim + kTileQ * a.head_dim + kWarps * kTileK);
    dim3 grid(static_cast<unsigned>((a.q_len + kTileQ - 1) / kTileQ), static_cast<unsigned>(a.heads),
              static_cast<unsigned>(a.batch));
    TiledAttentionKernel<<<grid, 32 * kWarps, shared, s>>>(a);
    return cudaGetLastError();
  }
  const int64_t splits = (a.kv_len + kSplitKeys - 1) / kSplitKeys;
  dim3 grid(static_cast<unsigned>(a.q_len), static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch * splits));
  SplitAttentionKernel<<<grid, 32 * kSplitWarps, 0, s>>>(a, splits, scratch);
  dim3 combine(static_cast<unsigned>(a.q_len), static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch));
  CombineSplitsKernel<<<combine, 128, 0, s>>>(a, splits, scratch);
  return cudaGetLastError();
}

}  // namespace accel::cuda::kernels
