#include "backends/cuda/cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "backends/cuda/cublas_loader.h"
#include "backends/cuda/cuda_kernels.h"
#include "graph/constant_mirrors.h"
#include "core/half.h"
#include "core/units.h"
#include "formats/quant.h"

namespace accel::cuda {

namespace {

Status CudaError(cudaError_t e, const std::string& what) {
  if (e == cudaErrorMemoryAllocation) return OutOfMemory("cuda: out of GPU memory: " + what);
  return Internal("cuda: " + what + ": " + cudaGetErrorString(e));
}
Status OutOfGpuMemory(size_t bytes, const std::string& what) {
  return OutOfMemory("cuda: out of GPU memory allocating " + FormatBytes(static_cast<int64_t>(bytes)) + " for " + what);
}

#define ACCEL_CUDA_TRY(expr, what)                     \
  do {                                                 \
    const cudaError_t accel_cuda_e = (expr);           \
    if (accel_cuda_e != cudaSuccess) return CudaError(accel_cuda_e, what); \
  } while (0)

// cudaMalloc'd blocks, cached by size once released: steady-state inference (the arena, KV
// caches, scratch) allocates nothing. Never managed memory.
class DevicePool final : public BlockAllocator, public std::enable_shared_from_this<DevicePool> {
 public:
  explicit DevicePool(int index) : index_(index) {}
  ~DevicePool() override {
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) cudaFree(p);
    }
  }
  Device device() const override { return {DeviceKind::kCuda, index_}; }

  std::shared_ptr<void> AllocateBlock(size_t bytes) override {
    const size_t size = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
      }
    }
    if (!p) {
      cudaSetDevice(index_);
      if (cudaMalloc(&p, size) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky allocation error
        TrimCache();
        if (cudaMalloc(&p, size) != cudaSuccess) {
          cudaGetLastError();
          return nullptr;
        }
      }
    }
    std::shared_ptr<DevicePool> self = shared_from_this();
    return std::shared_ptr<void>(p, [self, size](void* q) { self->Release(q, size); });
  }

 private:
  void Release(void* p, size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[size].push_back(p);
  }
  void TrimCache() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) cudaFree(p);
      blocks.clear();
    }
  }
  int index_;
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
};

// A packed weight: the matrix in device memory, [N, K] row-major, in `type`.
struct CudaLinear {
  std::shared_ptr<void> w;
  cudaDataType type = CUDA_R_32F;
};

int ActOf(Activation a) { return static_cast<int>(a); }

class CudaBackend final : public Backend {
 public:
  CudaBackend(int index, const Cublas* cublas, cudaStream_t stream, cublasHandle_t handle)
      : index_(index), cublas_(cublas), stream_(stream), handle_(handle), pool_(std::make_shared<DevicePool>(index)) {
    const char* tf32 = std::getenv("ACCEL_CUDA_TF32");
    tf32_ = tf32 && std::strcmp(tf32, "1") == 0;
  }
  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    mirrors_.Clear();
    half_scratch_ = {};
    attention_scratch_ = {};
    cublas_->Destroy(handle_);
    cudaStreamDestroy(stream_);
  }

  std::string_view name() const override { return "cuda"; }
  Device device() const override { return {DeviceKind::kCuda, index_}; }
  BlockAllocator& allocator() override { return *pool_; }

  Result<Tensor> Allocate(DType dtype, Shape shape) override {
    auto n = NumElements(shape);
    auto bytes = n ? BytesFor(dtype, *n) : std::nullopt;
    if (!bytes) return InvalidArgument("invalid tensor shape " + ShapeToString(shape));
    std::shared_ptr<void> block = pool_->AllocateBlock(*bytes);
    if (!block) {
      return OutOfGpuMemory(*bytes, "a " + std::string(Name(dtype)) + " " + ShapeToString(shape) + " tensor");
    }
    ACCEL_CUDA_TRY(cudaMemsetAsync(block.get(), 0, *bytes, stream_), "zero-filling a new tensor");
    return Tensor::Wrap(dtype, std::move(shape), block.get(), block, device());
  }

  Status Upload(const Tensor& host, Tensor& dst) override {
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(host, dst, "cuda upload"));
    return Copy2D(host, dst, cudaMemcpyHostToDevice);
  }
  Status Download(const Tensor& src, Tensor& host) override {
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, host, "cuda download"));
    ACCEL_RETURN_IF_ERROR(Copy2D(src, host, cudaMemcpyDeviceToHost));
    return Synchronize();
  }
  Status Copy(const Tensor& src, Tensor& dst) override {
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, dst, "cuda copy"));
    return Copy2D(src, dst, src.on_host() ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice);
  }
  Status Synchronize() override {
    ACCEL_CUDA_TRY(cudaStreamSynchronize(stream_), "synchronizing the stream");
    return Status::Ok();
  }

  bool Supports(Op op, DType dtype) const override {
    if (dtype != DType::kF32) return false;
    switch (op) {
      case Op::kConv1d:
      case Op::kConv2d:
      case Op::kGroupNorm:
      case Op::kMaxPool2d: return false;  // run on the CPU (few calls, at the model's input)
      default: return true;
    }
  }

  Result<PackedLinear> PackLinear(const Tensor& w, DType compute) override {
    if (w.rank() != 2 || !w.on_host()) return InvalidArgument("cuda: a linear weight must be a host [N, K] matrix");
    const int64_t n = w.dim(0), k = w.dim(1);
    Tensor f32 = w;
    if (w.dtype() != DType::kF32) { ACCEL_ASSIGN_OR_RETURN(f32, quant::ToF32(w)); }  // f16/bf16/Q8_0/Q4_0 -> f32
    auto packed = std::make_shared<CudaLinear>();
    const size_t count = static_cast<size_t>(n * k);
    if (compute == DType::kBF16 || compute == DType::kF16) {
      std::vector<uint16_t> half(count);
      const float* src = f32.data<float>();
      for (size_t i = 0; i < count; ++i) half[i] = compute == DType::kBF16 ? F32ToBf16(src[i]) : F32ToF16(src[i]);
      packed->type = compute == DType::kBF16 ? CUDA_R_16BF : CUDA_R_16F;
      ACCEL_ASSIGN_OR_RETURN(packed->w, UploadBytes(half.data(), count * 2, "a " + std::to_string(n) + "x" + std::to_string(k) + " weight"));
    } else {
      packed->type = CUDA_R_32F;
      ACCEL_ASSIGN_OR_RETURN(packed->w, UploadBytes(f32.data<float>(), count * 4, "a " + std::to_string(n) + "x" + std::to_string(k) + " weight"));
    }
    PackedLinear out;
    out.out_features = n;
    out.in_features = k;
    out.compute = compute == DType::kF16 || compute == DType::kBF16 ? compute : DType::kF32;
    out.data = std::shared_ptr<const void>(packed, packed.get());
    return out;
  }

  Status Linear(const Tensor& x, const PackedLinear& pw, const Tensor* bias, Activation act, Tensor& y) override {
    const int64_t k = pw.in_features, n = pw.out_features;
    if (x.dim(-1) != k || !x.contiguous() || y.dim(-1) != n || x.rows() != y.rows()) {
      return InvalidArgument("cuda Linear: x " + ShapeToString(x.shape()) + " by a " + std::to_string(n) + "x" + std::to_string(k) +
                             " weight into " + ShapeToString(y.shape()));
    }
    const int64_t m = x.rows();
    const auto* w = static_cast<const CudaLinear*>(pw.data.get());
    ACCEL_ASSIGN_OR_RETURN(const float* xp, In(x));
    const float alpha = 1.0f, beta = 0.0f;
    const void* b_ptr = xp;
    cudaDataType b_type = CUDA_R_32F;
    cublasComputeType_t compute = tf32_ ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    if (w->type != CUDA_R_32F) {
      // 16-bit weights: the activations are rounded to the same format for the tensor cores.
      ACCEL_ASSIGN_OR_RETURN(void* half, Grow(half_scratch_, static_cast<size_t>(m * k) * 2, "GEMM scratch"));
      if (w->type == CUDA_R_16BF) {
        kernels::F32ToBf16(xp, m * k, static_cast<uint16_t*>(half), stream_);
      } else {
        kernels::F32ToF16(xp, m * k, static_cast<uint16_t*>(half), stream_);
      }
      b_ptr = half;
      b_type = w->type;
      compute = CUBLAS_COMPUTE_32F;
    }
    // Row-major y[M,N] = x[M,K] W^T is column-major y^T[N,M] = W[N,K] (as K x N, transposed) x^T.
    const cublasStatus_t st = cublas_->GemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                              static_cast<int>(k), &alpha, w->w.get(), w->type, static_cast<int>(k), b_ptr,
                                              b_type, static_cast<int>(k), &beta, y.storage<float>(), CUDA_R_32F,
                                              static_cast<int>(n), compute, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) return Internal("cuBLAS GemmEx failed (status " + std::to_string(st) + ") for " +
                                                     std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    const float* bp = nullptr;
    if (bias) { ACCEL_ASSIGN_OR_RETURN(bp, In(*bias)); }
    kernels::BiasActivation(y.storage<float>(), m, n, bp, ActOf(act), stream_);
    return Launched("Linear");
  }

  Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override {
    const int64_t n = x.dim(-1);
    if (static_cast<int64_t>(gamma.numel()) != n || y.shape() != x.shape()) return InvalidArgument("cuda LayerNorm shapes");
    ACCEL_ASSIGN_OR_RETURN(const float* xp, In(x));
    ACCEL_ASSIGN_OR_RETURN(const float* g, In(gamma));
    const float* b = nullptr;
    if (beta) { ACCEL_ASSIGN_OR_RETURN(b, In(*beta)); }
    kernels::LayerNorm(xp, x.row_stride(), g, b, eps, x.rows(), n, y.storage<float>(), y.row_stride(), stream_);
    return Launched("LayerNorm");
  }

  Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) override {
    const int64_t n = x.dim(-1), group = static_cast<int64_t>(gamma.numel());
    if (group <= 0 || n % group != 0 || y.shape() != x.shape()) return InvalidArgument("cuda RmsNorm shapes");
    ACCEL_ASSIGN_OR_RETURN(const float* xp, In(x));
    ACCEL_ASSIGN_OR_RETURN(const float* g, In(gamma));
    kernels::RmsNorm(xp, x.row_stride(), g, group, eps, x.rows(), n, y.storage<float>(), y.row_stride(), stream_);
    return Launched("RmsNorm");
  }

  Status Activate(Activation act, Tensor& x) override {
    kernels::Activate(x.storage<float>(), static_cast<int64_t>(x.numel()), ActOf(act), stream_);
    return Launched("Activate");
  }
  Status Softmax(Tensor& x) override {
    kernels::Softmax(x.storage<float>(), x.rows(), x.dim(-1), stream_);
    return Launched("Softmax");
  }
  Status Scale(Tensor& x, float s) override {
    kernels::Scale(x.storage<float>(), static_cast<int64_t>(x.numel()), s, stream_);
    return Launched("Scale");
  }

  Status Add(const Tensor& a, const Tensor& b, Tensor& y) override {
    const size_t n = a.numel();
    if (y.numel() != n || (b.numel() != n && (b.numel() == 0 || n % b.numel() != 0 || b.dim(-1) != a.dim(-1)))) {
      return InvalidArgument("cuda Add shapes " + ShapeToString(a.shape()) + " and " + ShapeToString(b.shape()));
    }
    ACCEL_ASSIGN_OR_RETURN(const float* ap, In(a));
    ACCEL_ASSIGN_OR_RETURN(const float* bp, In(b));
    kernels::Add(ap, bp, static_cast<int64_t>(n), static_cast<int64_t>(b.numel()), y.storage<float>(), stream_);
    return Launched("Add");
  }
  Status Mul(const Tensor& a, const Tensor& b, Tensor& y) override {
    if (b.numel() != a.numel() || y.numel() != a.numel()) return InvalidArgument("cuda Mul shapes differ");
    ACCEL_ASSIGN_OR_RETURN(const float* ap, In(a));
    ACCEL_ASSIGN_OR_RETURN(const float* bp, In(b));
    kernels::Mul(ap, bp, static_cast<int64_t>(a.numel()), y.storage<float>(), stream_);
    return Launched("Mul");
  }
  Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) override {
    const int64_t f = out.dim(-1);
    if (gate_up.dim(-1) != 2 * f || gate_up.rows() != out.rows()) return InvalidArgument("cuda GatedActivation shapes");
    ACCEL_ASSIGN_OR_RETURN(const float* gp, In(gate_up));
    kernels::GatedActivation(gp, out.rows(), f, ActOf(act), out.storage<float>(), stream_);
    return Launched("GatedActivation");
  }

  Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) override {
    if (table.dtype() != DType::kF32 || table.rank() != 2) return InvalidArgument("cuda Embedding: the table must be f32 [vocab, width]");
    if (ids.dtype() != DType::kI64 && ids.dtype() != DType::kI32) return InvalidArgument("cuda Embedding: ids must be i64 or i32");
    ACCEL_ASSIGN_OR_RETURN(const float* tp, In(table));
    ACCEL_ASSIGN_OR_RETURN(const void* ip, InRaw(ids));
    kernels::Embedding(tp, table.dim(0), table.dim(1), ip, ids.dtype() == DType::kI64, static_cast<int64_t>(ids.numel()),
                       out.storage<float>(), stream_);
    return Launched("Embedding");
  }

  Status Conv1d(const Tensor&, const Tensor&, const Tensor*, int, int, int, Tensor&) override {
    return Unsupported("cuda backend has no Conv1d (Exec runs it on the CPU)");
  }
  Status Conv2d(const Tensor&, const Tensor&, const Tensor*, int, int, int, Tensor&) override {
    return Unsupported("cuda backend has no Conv2d (Exec runs it on the CPU)");
  }
  Status GroupNorm(const Tensor&, int, const Tensor&, const Tensor*, float, Tensor&) override {
    return Unsupported("cuda backend has no GroupNorm (Exec runs it on the CPU)");
  }
  Status MaxPool2d(const Tensor&, int, int, int, Tensor&) override {
    return Unsupported("cuda backend has no MaxPool2d (Exec runs it on the CPU)");
  }

  Status TransposeLast2(const Tensor& x, Tensor& y) override {
    const int64_t r = x.dim(-2), c = x.dim(-1), batch = x.rank() > 2 ? x.dim(0) : 1;
    ACCEL_ASSIGN_OR_RETURN(const float* xp, In(x));
    kernels::TransposeLast2(xp, batch, r, c, y.storage<float>(), stream_);
    return Launched("TransposeLast2");
  }

  Status Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) override {
    return RunAttention(q, k, v, p, nullptr, out);
  }
  Status AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                           const Tensor& score_bias, Tensor& out) override {
    if (score_bias.numel() != static_cast<size_t>(p.num_heads * q.dim(1) * k.dim(1))) {
      return InvalidArgument("cuda attention score bias " + ShapeToString(score_bias.shape()));
    }
    return RunAttention(q, k, v, p, &score_bias, out);
  }

  Status CachedAttention(const CachedAttentionArgs& c, const AttentionParams& p, Tensor& out) override {
    if (c.q.rank() != 3 || c.k.rank() != 3 || c.k.shape() != c.v.shape() || c.kv_len > c.k.dim(1) ||
        c.q.dim(0) != c.k.dim(0) || p.query_offset + c.q.dim(1) > c.kv_len) {
      return InvalidArgument("cuda CachedAttention: q " + ShapeToString(c.q.shape()) + ", cache " + ShapeToString(c.k.shape()) +
                             ", " + std::to_string(c.kv_len) + " keys");
    }
    kernels::AttentionArgs a = Base(c.q, p);
    ACCEL_ASSIGN_OR_RETURN(a.k, In(c.k));
    ACCEL_ASSIGN_OR_RETURN(a.v, In(c.v));
    a.kv_row = c.k.dim(2);
    a.kv_batch = c.k.dim(1) * c.k.dim(2);
    a.kv_len = c.kv_len;
    a.empty_uniform = 0;
    if (c.allowed.defined()) {
      ACCEL_ASSIGN_OR_RETURN(a.mask, InRaw(c.allowed));
      a.mask_kind = kernels::kMaskU8;
      a.mask_row = c.allowed.dim(-1);
    }
    if (c.alibi_slopes.defined()) {
      ACCEL_ASSIGN_OR_RETURN(a.alibi, In(c.alibi_slopes));
      ACCEL_ASSIGN_OR_RETURN(a.key_pos, In(c.key_positions));
      a.key_pos_row = c.key_positions.dim(-1);
    }
    a.out = out.storage<float>();
    return Attend(a);
  }

  Status Rope(Tensor& x, const Tensor& positions, const RopeParams& p) override {
    if (p.num_heads <= 0 || p.head_dim <= 0 || p.rotary_dim <= 0 || p.rotary_dim > p.head_dim || p.rotary_dim % 2 != 0 ||
        static_cast<int64_t>(p.inv_freq.size()) < p.rotary_dim / 2 || positions.numel() != static_cast<size_t>(x.rows())) {
      return InvalidArgument("cuda Rope: rotary_dim " + std::to_string(p.rotary_dim) + " of head_dim " + std::to_string(p.head_dim));
    }
    ACCEL_ASSIGN_OR_RETURN(const void* pos, InRaw(positions));
    // The frequencies are a small host parameter, the same for every layer and usually every
    // step: uploaded when they change (an upload from pageable memory waits for the host).
    if (rope_freq_host_.size() != p.inv_freq.size() ||
        !std::equal(p.inv_freq.begin(), p.inv_freq.end(), rope_freq_host_.begin())) {
      ACCEL_RETURN_IF_ERROR(Synchronize());  // the previous frequencies may still be read
      ACCEL_ASSIGN_OR_RETURN(rope_freq_, UploadBytes(p.inv_freq.data(), p.inv_freq.size() * sizeof(float), "RoPE frequencies"));
      rope_freq_host_.assign(p.inv_freq.begin(), p.inv_freq.end());
    }
    kernels::Rope(x.storage<float>(), x.rows(), x.row_stride(), static_cast<const int64_t*>(pos),
                  static_cast<const float*>(rope_freq_.get()), p.num_heads, p.head_dim, p.rotary_dim, p.interleaved,
                  p.attention_factor, stream_);
    return Launched("Rope");
  }

 private:
  // Row-by-row copy between views of one shape; each side may be strided.
  Status Copy2D(const Tensor& src, Tensor& dst, cudaMemcpyKind kind) {
    if (src.numel() == 0) return Status::Ok();
    const size_t elem = Info(src.dtype()).block_bytes;
    if (src.contiguous() && dst.contiguous()) {
      ACCEL_CUDA_TRY(cudaMemcpyAsync(dst.storage<void>(), src.storage<void>(), src.nbytes(), kind, stream_), "copying a tensor");
      return Status::Ok();
    }
    const size_t width = elem * static_cast<size_t>(src.dim(-1));
    ACCEL_CUDA_TRY(cudaMemcpy2DAsync(dst.storage<void>(), elem * dst.row_stride(), src.storage<void>(), elem * src.row_stride(),
                                     width, static_cast<size_t>(src.rows()), kind, stream_),
                   "copying a strided view");
    return Status::Ok();
  }

  Result<std::shared_ptr<void>> UploadBytes(const void* host, size_t bytes, const std::string& what) {
    std::shared_ptr<void> block = pool_->AllocateBlock(bytes);
    if (!block) return OutOfGpuMemory(bytes, what);
    ACCEL_CUDA_TRY(cudaMemcpyAsync(block.get(), host, bytes, cudaMemcpyHostToDevice, stream_), "uploading " + what);
    return block;
  }

  // An op input's device address: device tensors in place, host constants (weights) through
  // their device mirror (graph/constant_mirrors.h).
  Result<const void*> InRaw(const Tensor& t) {
    if (!t.on_host()) {
      if (t.device() != device()) return InvalidArgument("cuda: a tensor on " + t.device().ToString() + " given to " + device().ToString());
      return static_cast<const void*>(t.storage<const void>());
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor mirror, mirrors_.Get(*this, t));
    return static_cast<const void*>(mirror.storage<const void>());
  }
  Result<const float*> In(const Tensor& t) {
    if (t.dtype() != DType::kF32) return InvalidArgument("cuda: expected an f32 tensor, got " + std::string(Name(t.dtype())));
    ACCEL_ASSIGN_OR_RETURN(const void* p, InRaw(t));
    return static_cast<const float*>(p);
  }

  // Reusable device scratch, grown on demand (work on the stream is ordered, so one per use
  // suffices).
  struct Scratch {
    std::shared_ptr<void> block;
    size_t bytes = 0;
  };
  Result<void*> Grow(Scratch& s, size_t bytes, const char* what) {
    if (s.bytes < bytes) {
      ACCEL_RETURN_IF_ERROR(Synchronize());  // the old block may still be read
      s.block = pool_->AllocateBlock(bytes);
      s.bytes = s.block ? bytes : 0;
      if (!s.block) return OutOfGpuMemory(bytes, what);
    }
    return s.block.get();
  }

  kernels::AttentionArgs Base(const Tensor& q, const AttentionParams& p) {
    kernels::AttentionArgs a;
    a.q = q.storage<const float>();
    a.q_row = q.row_stride();
    a.q_batch = q.dim(1) * q.row_stride();
    a.batch = q.dim(0);
    a.q_len = q.dim(1);
    a.heads = p.num_heads;
    a.kv_heads = p.num_kv_heads;
    a.head_dim = p.head_dim;
    a.scale = p.scale;
    a.causal = p.causal;
    a.window = p.sliding_window;
    a.query_offset = p.query_offset;
    return a;
  }

  Status RunAttention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, const Tensor* bias, Tensor& out) {
    if (q.rank() != 3 || k.rank() != 3 || k.shape() != v.shape() || k.row_stride() != v.row_stride() || q.dim(0) != k.dim(0) ||
        q.on_host() || k.on_host() || v.on_host()) {
      return InvalidArgument("cuda attention q " + ShapeToString(q.shape()) + " / k " + ShapeToString(k.shape()));
    }
    kernels::AttentionArgs a = Base(q, p);
    a.k = k.storage<const float>();
    a.v = v.storage<const float>();
    a.kv_row = k.row_stride();
    a.kv_batch = k.dim(1) * k.row_stride();
    a.kv_len = k.dim(1);
    if (p.key_padding_mask) {
      const Tensor& m = *p.key_padding_mask;
      if (m.numel() != static_cast<size_t>(a.batch * a.kv_len)) return InvalidArgument("cuda attention mask " + ShapeToString(m.shape()));
      ACCEL_ASSIGN_OR_RETURN(a.mask, InRaw(m));
      a.mask_kind = m.dtype() == DType::kI64 ? kernels::kMaskI64 : m.dtype() == DType::kF32 ? kernels::kMaskF32
                    : m.dtype() == DType::kU8 || m.dtype() == DType::kBool ? kernels::kMaskU8 : -1;
      if (a.mask_kind < 0) return InvalidArgument("cuda attention mask dtype " + std::string(Name(m.dtype())));
      a.mask_row = a.kv_len;
    }
    if (bias) { ACCEL_ASSIGN_OR_RETURN(a.bias, In(*bias)); }
    a.out = out.storage<float>();
    return Attend(a);
  }

  Status Attend(const kernels::AttentionArgs& a) {
    if (a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads != 0 || a.head_dim <= 0) {
      return InvalidArgument("cuda attention heads " + std::to_string(a.heads) + "/" + std::to_string(a.kv_heads));
    }
    if (a.head_dim > kernels::MaxHeadDim()) {
      return Unsupported("cuda attention with head_dim " + std::to_string(a.head_dim) + " (the kernels take up to " +
                         std::to_string(kernels::MaxHeadDim()) + ")");
    }
    ACCEL_ASSIGN_OR_RETURN(void* partial, Grow(attention_scratch_, kernels::AttentionScratchBytes(a), "attention scratch"));
    ACCEL_CUDA_TRY(kernels::Attention(a, static_cast<float*>(partial), stream_), "launching attention");
    return Status::Ok();
  }

  Status Launched(const char* op) {
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return CudaError(e, std::string("launching ") + op);
    return Status::Ok();
  }

  int index_;
  const Cublas* cublas_;
  cudaStream_t stream_;
  cublasHandle_t handle_;
  std::shared_ptr<DevicePool> pool_;
  bool tf32_ = false;
  ConstantMirrors mirrors_;
  Scratch half_scratch_;       // 16-bit copies of GEMM inputs
  Scratch attention_scratch_;  // split-K partial results
  std::vector<float> rope_freq_host_;
  std::shared_ptr<void> rope_freq_;
};

}  // namespace

int DeviceCount(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = cudaGetErrorString(e);
    cudaGetLastError();
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device";
  return n;
}

Result<std::unique_ptr<Backend>> CreateBackend(int index) {
  std::string why;
  const int count = DeviceCount(&why);
  if (count == 0) return Unsupported("device 'cuda:" + std::to_string(index) + "': no usable GPU (" + why + ")");
  if (index >= count) {
    return Unsupported("device 'cuda:" + std::to_string(index) + "': this machine has " + std::to_string(count) + " CUDA device(s)");
  }
  ACCEL_ASSIGN_OR_RETURN(const Cublas* cublas, LoadCublas());
  ACCEL_CUDA_TRY(cudaSetDevice(index), "selecting device " + std::to_string(index));
  cudaStream_t stream = nullptr;
  ACCEL_CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "creating a stream");
  cublasHandle_t handle = nullptr;
  if (cublas->Create(&handle) != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    return Internal("cuBLAS could not create a handle (" + cublas->library->name() + ")");
  }
  cublas->SetStream(handle, stream);
  cublas->SetMathMode(handle, CUBLAS_DEFAULT_MATH);  // exact f32 unless ACCEL_CUDA_TF32=1 asks for TF32
  return std::unique_ptr<Backend>(new CudaBackend(index, cublas, stream, handle));
}

}  // namespace accel::cuda
