// The Vulkan backend's ops: argument checks as the CPU backend makes them, then one recorded
// dispatch each (vulkan_context.h). Host tensors handed to ops are constants (weights): they are
// mirrored on the device once (graph/constant_mirrors.h).
#include "backends/vulkan/vulkan_backend.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backends/vulkan/quant_words.h"
#include "backends/vulkan/vulkan_context.h"
#include "formats/quant.h"
#include "graph/constant_mirrors.h"

namespace accel::vulkan {

namespace {

// Arena blocks: one buffer each.
class VulkanAllocator final : public BlockAllocator {
 public:
  VulkanAllocator(std::shared_ptr<Context> ctx, Device device) : ctx_(std::move(ctx)), device_(device) {}
  Device device() const override { return device_; }
  std::shared_ptr<void> AllocateBlock(size_t bytes) override {
    auto b = ctx_->CreateBuffer(bytes);
    if (!b.ok()) return nullptr;
    Buffer* buffer = *b;
    std::shared_ptr<Context> ctx = ctx_;
    return std::shared_ptr<void>(reinterpret_cast<void*>(buffer->base), [ctx, buffer](void*) { ctx->Release(buffer); });
  }

 private:
  std::shared_ptr<Context> ctx_;
  Device device_;
};

// Small persistent tensors (norm weights, biases, positions, masks) share 4 MiB buffers: one
// VkDeviceMemory each would run into the driver's allocation-count limit (4096 on some). A
// chunk is a bump allocator whose memory is reused once every tensor in it is gone.
class SmallHeap : public std::enable_shared_from_this<SmallHeap> {
 public:
  static constexpr size_t kLargest = size_t{256} << 10;
  static constexpr size_t kChunk = size_t{4} << 20;

  explicit SmallHeap(std::shared_ptr<Context> ctx) : ctx_(std::move(ctx)) {}
  ~SmallHeap() {
    if (current_) {
      ctx_->Release(current_->buffer);
      delete current_;
    }
  }

  // A zero-filled block of `bytes` (<= kLargest) and the handle that frees it.
  Result<std::shared_ptr<const void>> Allocate(size_t bytes) {
    std::lock_guard lock(ctx_->mutex());
    bytes = std::max<size_t>(256, (bytes + 255) / 256 * 256);
    if (!current_ || current_->used + bytes > current_->buffer->size) {
      if (current_ && current_->live == 0) {
        current_->used = 0;
      } else {
        ACCEL_ASSIGN_OR_RETURN(Buffer * b, ctx_->CreateBuffer(kChunk));
        current_ = new Chunk{b, 0, 0};  // the previous chunk goes with its last tensor
      }
    }
    Chunk* c = current_;
    const size_t offset = c->used;
    ACCEL_RETURN_IF_ERROR(ctx_->Fill(*c->buffer, offset, bytes));
    c->used += bytes;
    ++c->live;
    std::shared_ptr<SmallHeap> self = shared_from_this();
    return std::shared_ptr<const void>(reinterpret_cast<void*>(c->buffer->base + offset), [self, c](const void*) { self->Free(c); });
  }

 private:
  struct Chunk {
    Buffer* buffer;
    size_t used;
    int64_t live;
  };
  void Free(Chunk* c) {
    std::lock_guard lock(ctx_->mutex());
    if (--c->live > 0) return;
    if (c == current_) {
      c->used = 0;
    } else {
      ctx_->Release(c->buffer);
      delete c;
    }
  }
  std::shared_ptr<Context> ctx_;
  Chunk* current_ = nullptr;
};

uint32_t U32(int64_t v) { return static_cast<uint32_t>(v); }

Status RequireF32(const Tensor& t, const char* what) {
  if (t.dtype() != DType::kF32) return InvalidArgument(std::string(what) + " must be f32, got " + std::string(Name(t.dtype())));
  return Status::Ok();
}

// Element offsets travel as 32-bit words: the device buffers are limited to 16 GiB of words.
Status RequireWords(size_t count, const char* op) {
  if (count > 0xffffffffull) return InvalidArgument(std::string("vulkan: ") + op + " is too large (32-bit indexing)");
  return Status::Ok();
}

// The device copy of a linear weight: f32 [N, K], or Q8_0/Q4_0 blocks split into quant words and
// scales (quant_words.h), which the quantized shader reads without widening.
struct VulkanLinear {
  Tensor weight;
  Tensor quant_words, scales;
  std::optional<uint32_t> quant_format;
};

class VulkanBackend final : public Backend {
 public:
  VulkanBackend(std::shared_ptr<Context> ctx, int index)
      : ctx_(std::move(ctx)),
        device_{DeviceKind::kVulkan, index},
        allocator_(ctx_, device_),
        small_(std::make_shared<SmallHeap>(ctx_)) {
    // A workgroup per output feature suits GPUs; on a CPU device (lavapipe) the per-workgroup
    // cost dominates and the tiled kernel is several times faster. ACCEL_VULKAN_GEMV_ROWS
    // overrides (the op test covers both kernels with it).
    gemv_rows_ = ctx_->is_cpu() ? 0 : 8;
    if (const char* env = std::getenv("ACCEL_VULKAN_GEMV_ROWS")) gemv_rows_ = std::min(8, std::atoi(env));
  }
  ~VulkanBackend() override {
    (void)ctx_->Flush();
    mirrors_.Clear();
  }

  std::string_view name() const override { return "vulkan"; }
  Device device() const override { return device_; }
  BlockAllocator& allocator() override { return allocator_; }

  Result<Tensor> Allocate(DType dtype, Shape shape) override {
    auto lock = Lock();
    const auto n = NumElements(shape);
    if (!n) return InvalidArgument("vulkan: cannot allocate shape " + ShapeToString(shape));
    Tensor probe = Tensor::Wrap(dtype, shape, nullptr, nullptr);
    const size_t bytes = probe.nbytes();
    if (bytes <= SmallHeap::kLargest) {
      ACCEL_ASSIGN_OR_RETURN(std::shared_ptr<const void> owner, small_->Allocate(bytes));
      void* p = const_cast<void*>(owner.get());
      return Tensor::Wrap(dtype, std::move(shape), p, std::move(owner), device_);
    }
    ACCEL_ASSIGN_OR_RETURN(Buffer * b, ctx_->CreateBuffer(bytes));
    std::shared_ptr<Context> ctx = ctx_;
    std::shared_ptr<const void> owner(reinterpret_cast<void*>(b->base), [ctx, b](const void*) { ctx->Release(b); });
    ACCEL_RETURN_IF_ERROR(ctx_->Fill(*b, 0, b->size));
    return Tensor::Wrap(dtype, std::move(shape), reinterpret_cast<void*>(b->base), std::move(owner), device_);
  }

  Status Upload(const Tensor& host, Tensor& dst) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(host, dst, "vulkan upload"));
    if (!host.on_host() || dst.device() != device_) return InvalidArgument("vulkan: upload from the host into " + dst.device().ToString());
    ACCEL_ASSIGN_OR_RETURN(Binding d, Bind(dst));
    if (host.contiguous()) return ctx_->Write(*d.buffer, RowsOf(dst, d), host.raw());
    // A strided host view: rows one by one.
    const size_t elem = Info(host.dtype()).block_bytes, row = elem * static_cast<size_t>(host.dim(-1));
    for (int64_t r = 0; r < host.rows(); ++r) {
      ACCEL_RETURN_IF_ERROR(ctx_->Write(*d.buffer, {d.offset + r * dst.row_stride() * elem, row, 0, 1},
                                        host.storage<const char>() + r * host.row_stride() * elem));
    }
    return Status::Ok();
  }

  Status Download(const Tensor& src, Tensor& host) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, host, "vulkan download"));
    if (!host.on_host() || !host.contiguous()) return InvalidArgument("vulkan: download into a contiguous host tensor");
    ACCEL_ASSIGN_OR_RETURN(Binding s, Bind(src));
    return ctx_->Read(*s.buffer, RowsOf(src, s), host.raw());
  }

  Status Synchronize() override {
    auto lock = Lock();
    return ctx_->Flush();
  }

  bool Supports(Op op, DType dtype) const override {
    if (op == Op::kCopy) return true;
    if (dtype != DType::kF32) return false;
    if (op == Op::kMaxPool2d) return false;  // no shader yet: Exec runs it on the CPU
    return op != Op::kRope || ctx_->has_f64();
  }

  Result<PackedLinear> PackLinear(const Tensor& w, DType compute) override {
    auto lock = Lock();
    if (w.rank() != 2) return InvalidArgument("vulkan: Linear weight must be [N, K], got " + ShapeToString(w.shape()));
    if (!w.on_host()) return InvalidArgument("vulkan: Linear weights are packed from host tensors");
    auto packed = std::make_shared<VulkanLinear>();
    const bool blocks = (w.dtype() == DType::kQ8_0 || w.dtype() == DType::kQ4_0) && w.contiguous() && w.dim(1) % 32 == 0;
    if (blocks) {
      ACCEL_ASSIGN_OR_RETURN(QuantWords q, SplitQuantBlocks(w));
      ACCEL_ASSIGN_OR_RETURN(packed->quant_words, Allocate(DType::kI32, q.words.shape()));
      ACCEL_RETURN_IF_ERROR(Upload(q.words, packed->quant_words));
      ACCEL_ASSIGN_OR_RETURN(packed->scales, Allocate(DType::kF32, q.scales.shape()));
      ACCEL_RETURN_IF_ERROR(Upload(q.scales, packed->scales));
      packed->quant_format = q.format;
    } else {
      // f32 arithmetic for the other formats: 16-bit and other quantized weights are widened once here.
      Tensor f32 = w;
      if (w.dtype() != DType::kF32 || !w.contiguous()) {
        ACCEL_ASSIGN_OR_RETURN(f32, quant::ToF32(w));
      }
      ACCEL_ASSIGN_OR_RETURN(packed->weight, Allocate(DType::kF32, f32.shape()));
      ACCEL_RETURN_IF_ERROR(Upload(f32, packed->weight));
    }
    PackedLinear out;
    out.out_features = w.dim(0);
    out.in_features = w.dim(1);
    out.compute = DType::kF32;
    out.data = std::move(packed);
    return out;
  }

  Status Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "Linear input"));
    if (x.dim(-1) != w.in_features) {
      return InvalidArgument("Linear input has " + std::to_string(x.dim(-1)) + " features, weight expects " +
                             std::to_string(w.in_features));
    }
    const int64_t m = x.rows();
    if (y.rows() != m || y.dim(-1) != w.out_features) return InvalidArgument("Linear output shape " + ShapeToString(y.shape()));
    if (bias && (bias->numel() != static_cast<size_t>(w.out_features) || bias->dtype() != DType::kF32)) {
      return InvalidArgument("Linear bias must be f32 [" + std::to_string(w.out_features) + "]");
    }
    const auto* packed = static_cast<const VulkanLinear*>(w.data.get());
    if (!packed) return InvalidArgument("vulkan: Linear weight was not packed");
    std::array<Binding, 8> b{};
    Push p;
    if (packed->quant_format) {
      ACCEL_RETURN_IF_ERROR(BindSlots({&x, &packed->quant_words, &packed->scales, bias, &y}, b, p));
      p.u[5] = U32(m), p.u[6] = U32(w.out_features), p.u[7] = U32(w.in_features);
      p.u[8] = bias != nullptr, p.u[9] = static_cast<uint32_t>(act);
      p.u[10] = U32(x.row_stride()), p.u[11] = U32(y.row_stride()), p.u[12] = *packed->quant_format;
      return ctx_->Dispatch1D(Shader::kLinearQuant, "Linear", b, p, static_cast<uint64_t>(w.out_features));
    }
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &packed->weight, bias, &y}, b, p));
    p.u[4] = U32(m), p.u[5] = U32(w.out_features), p.u[6] = U32(w.in_features);
    p.u[7] = bias != nullptr, p.u[8] = static_cast<uint32_t>(act);
    p.u[9] = U32(x.row_stride()), p.u[10] = U32(y.row_stride());
    if (m <= gemv_rows_) return ctx_->Dispatch1D(Shader::kLinearGemv, "Linear", b, p, static_cast<uint64_t>(w.out_features));
    if (m < 64 || w.out_features < 64) {
      return ctx_->Dispatch(Shader::kLinearSmall, "Linear", b, p, U32((w.out_features + 15) / 16), U32((m + 15) / 16));
    }
    return ctx_->Dispatch(Shader::kLinear, "Linear", b, p, U32((w.out_features + 63) / 64), U32((m + 63) / 64));
  }

  Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override {
    auto lock = Lock();
    const int64_t n = x.dim(-1);
    if (static_cast<int64_t>(gamma.numel()) != n || (beta && static_cast<int64_t>(beta->numel()) != n)) {
      return InvalidArgument("LayerNorm weight size " + std::to_string(gamma.numel()) + " != width " + std::to_string(n));
    }
    if (y.shape() != x.shape()) return InvalidArgument("LayerNorm output shape " + ShapeToString(y.shape()));
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "LayerNorm input"));
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &gamma, beta, &y}, b, p));
    p.u[4] = U32(n), p.u[5] = U32(x.rows()), p.u[6] = U32(x.row_stride()), p.u[7] = U32(y.row_stride());
    p.u[8] = beta != nullptr;
    p.f(9, eps);
    return ctx_->Dispatch1D(Shader::kLayerNorm, "LayerNorm", b, p, static_cast<uint64_t>(x.rows()));
  }

  Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) override {
    auto lock = Lock();
    const int64_t n = x.dim(-1), group = static_cast<int64_t>(gamma.numel());
    if (group <= 0 || n % group != 0) {
      return InvalidArgument("RmsNorm weight size " + std::to_string(group) + " does not divide width " + std::to_string(n));
    }
    if (y.shape() != x.shape()) return InvalidArgument("RmsNorm output shape " + ShapeToString(y.shape()));
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "RmsNorm input"));
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &gamma, nullptr, &y}, b, p));
    p.u[4] = U32(group), p.u[5] = U32(n / group), p.u[6] = U32(x.rows()), p.u[7] = U32(x.row_stride()),
    p.u[8] = U32(y.row_stride());
    p.f(9, eps);
    return ctx_->Dispatch1D(Shader::kRmsNorm, "RmsNorm", b, p, static_cast<uint64_t>(x.rows() * (n / group)));
  }

  Status Activate(Activation act, Tensor& x) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "activation input"));
    if (act == Activation::kNone) return Status::Ok();
    return Elementwise("Activate", 0, x, nullptr, nullptr, 0, act, 0.0f);
  }

  Status Scale(Tensor& x, float s) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "Scale input"));
    return Elementwise("Scale", 1, x, nullptr, nullptr, 0, Activation::kNone, s);
  }

  Status Add(const Tensor& a, const Tensor& b, Tensor& y) override {
    auto lock = Lock();
    const size_t n = a.numel();
    if (y.numel() != n || (b.numel() != n && (b.numel() == 0 || n % b.numel() != 0 || b.dim(-1) != a.dim(-1)))) {
      return InvalidArgument("Add shapes " + ShapeToString(a.shape()) + " and " + ShapeToString(b.shape()));
    }
    return Elementwise("Add", 2, a, &b, &y, b.numel(), Activation::kNone, 0.0f);
  }

  Status Mul(const Tensor& a, const Tensor& b, Tensor& y) override {
    auto lock = Lock();
    const size_t n = a.numel();
    if (b.numel() != n || y.numel() != n) return InvalidArgument("Mul shapes differ");
    return Elementwise("Mul", 3, a, &b, &y, n, Activation::kNone, 0.0f);
  }

  Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) override {
    auto lock = Lock();
    const int64_t f2 = gate_up.dim(-1), f = out.dim(-1);
    const int64_t rows = f2 ? static_cast<int64_t>(gate_up.numel()) / f2 : 0;
    if (gate_up.dtype() != DType::kF32 || out.dtype() != DType::kF32 || f2 != 2 * f ||
        out.numel() != static_cast<size_t>(rows * f)) {
      return InvalidArgument("GatedActivation shapes " + ShapeToString(gate_up.shape()) + " -> " + ShapeToString(out.shape()));
    }
    return Elementwise("GatedActivation", 4, gate_up, nullptr, &out, static_cast<size_t>(f), act, 0.0f, out.numel());
  }

  Status Softmax(Tensor& x) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(RequireF32(x, "Softmax input"));
    if (!x.contiguous()) return InvalidArgument("Softmax takes a contiguous tensor");
    const int64_t n = x.dim(-1);
    if (n == 0) return Status::Ok();
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x}, b, p));
    p.u[4] = U32(n), p.u[5] = U32(x.rows());
    return ctx_->Dispatch1D(Shader::kSoftmax, "Softmax", b, p, static_cast<uint64_t>(x.rows()));
  }

  Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) override {
    auto lock = Lock();
    const int64_t vocab = table.dim(0), width = table.dim(-1);
    const size_t n = ids.numel();
    if (out.numel() != n * static_cast<size_t>(width)) return InvalidArgument("embedding output shape");
    if (table.dtype() != DType::kF32) return InvalidArgument("embedding table must be f32");
    if (ids.dtype() != DType::kI64 && ids.dtype() != DType::kI32) return InvalidArgument("embedding ids must be i64 or i32");
    ACCEL_RETURN_IF_ERROR(RequireWords(table.numel(), "Embedding"));
    // The ids are few: check them on the host so a bad id is an error here, not garbage later.
    Tensor host_ids = ids;
    if (!ids.on_host()) {
      ACCEL_ASSIGN_OR_RETURN(host_ids, Tensor::Zeros(ids.dtype(), ids.shape()));
      ACCEL_RETURN_IF_ERROR(Download(ids, host_ids));
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t id = ids.dtype() == DType::kI64 ? host_ids.data<int64_t>()[i] : host_ids.data<int32_t>()[i];
      if (id < 0 || id >= vocab) {
        return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
      }
    }
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&table, &ids, nullptr, &out}, b, p));
    p.u[4] = U32(n), p.u[5] = U32(width), p.u[6] = ids.dtype() == DType::kI64;
    return ctx_->Dispatch1D(Shader::kEmbedding, "Embedding", b, p, (n * width + 255) / 256);
  }

  Status Rope(Tensor& x, const Tensor& pos, const RopeParams& rp) override {
    auto lock = Lock();
    const int64_t rows = x.rows();
    if (rp.num_heads <= 0 || rp.head_dim <= 0 || rp.rotary_dim <= 0 || rp.rotary_dim > rp.head_dim || rp.rotary_dim % 2 != 0 ||
        static_cast<int64_t>(rp.inv_freq.size()) < rp.rotary_dim / 2 || x.dtype() != DType::kF32 ||
        x.dim(-1) < static_cast<int64_t>(rp.num_heads) * rp.head_dim) {
      return InvalidArgument("Rope: rotary_dim " + std::to_string(rp.rotary_dim) + " of head_dim " +
                             std::to_string(rp.head_dim) + " over " + ShapeToString(x.shape()));
    }
    if (pos.dtype() != DType::kI64 || pos.numel() != static_cast<size_t>(rows)) {
      return InvalidArgument("Rope: positions " + ShapeToString(pos.shape()) + " for " + std::to_string(rows) + " rows");
    }
    if (!ctx_->has_f64()) return Unsupported("vulkan: Rope needs shaderFloat64 on '" + ctx_->device_name() + "'");
    const int64_t half = rp.rotary_dim / 2;
    const Tensor freq = Tensor::Wrap(DType::kF32, {half}, const_cast<float*>(rp.inv_freq.data()), nullptr);
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &pos, &freq}, b, p));
    p.u[4] = U32(rows), p.u[5] = U32(x.row_stride()), p.u[6] = U32(rp.num_heads), p.u[7] = U32(rp.head_dim);
    p.u[8] = U32(half), p.u[9] = rp.interleaved;
    p.f(10, rp.attention_factor);
    return ctx_->Dispatch1D(Shader::kRope, "Rope", b, p, (static_cast<uint64_t>(rows) * rp.num_heads * half + 255) / 256);
  }

  Status Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) override {
    auto lock = Lock();
    return SelfAttention("Attention", q, k, v, p, nullptr, out);
  }

  Status AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                           const Tensor& score_bias, Tensor& out) override {
    auto lock = Lock();
    if (score_bias.dtype() != DType::kF32 || !score_bias.contiguous() ||
        score_bias.numel() != static_cast<size_t>(p.num_heads * q.dim(1) * k.dim(1))) {
      return InvalidArgument("attention score bias " + ShapeToString(score_bias.shape()) + " for " +
                             std::to_string(p.num_heads) + " heads x " + std::to_string(q.dim(1)) + " x " +
                             std::to_string(k.dim(1)));
    }
    return SelfAttention("AttentionWithBias", q, k, v, p, &score_bias, out);
  }

  Status CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out) override {
    auto lock = Lock();
    if (a.q.rank() != 3 || a.k.rank() != 3 || a.k.shape() != a.v.shape() || a.k.row_stride() != a.v.row_stride() ||
        (a.allowed.defined() && (a.allowed.rank() != 2 || a.allowed.dim(0) != a.k.dim(0) || a.allowed.dtype() != DType::kU8))) {
      return InvalidArgument("CachedAttention: q " + ShapeToString(a.q.shape()) + ", cache " + ShapeToString(a.k.shape()));
    }
    const int64_t batch = a.q.dim(0), q_len = a.q.dim(1);
    if (batch != a.k.dim(0) || a.kv_len > a.k.dim(1)) {
      return InvalidArgument("CachedAttention: " + std::to_string(a.kv_len) + " keys in a cache of " + ShapeToString(a.k.shape()));
    }
    ACCEL_RETURN_IF_ERROR(CheckHeads(p));
    ACCEL_RETURN_IF_ERROR(CheckAttentionWork("CachedAttention", a.kv_len, p));
    if (a.kv_len <= 0 || q_len <= 0 || batch <= 0 || p.query_offset + q_len > a.kv_len ||
        (a.allowed.defined() && a.allowed.dim(1) < a.kv_len) || (a.alibi_slopes.defined() && !a.key_positions.defined())) {
      return InvalidArgument("CachedAttention: inconsistent lengths (q " + std::to_string(q_len) + ", kv " +
                             std::to_string(a.kv_len) + ", offset " + std::to_string(p.query_offset) + ")");
    }
    const int64_t width = static_cast<int64_t>(p.num_heads) * p.head_dim;
    if (out.dtype() != DType::kF32 || a.q.dtype() != DType::kF32 || a.k.dtype() != DType::kF32 ||
        out.numel() != static_cast<size_t>(batch * q_len * width)) {
      return InvalidArgument("CachedAttention output shape " + ShapeToString(out.shape()));
    }
    std::array<Binding, 8> b{};
    Push u;
    ACCEL_RETURN_IF_ERROR(BindSlots({&a.q, &a.k, &a.v, &out}, b, u));
    if (a.allowed.defined()) {
      ACCEL_ASSIGN_OR_RETURN(b[4], Bind(a.allowed));
      u.u[4] = U32(b[4].offset);  // bytes
      u.u[21] = 4;
      u.u[22] = U32(a.allowed.row_stride() == a.allowed.dim(1) ? a.allowed.dim(1) : a.allowed.row_stride());
    }
    if (a.alibi_slopes.defined()) {
      ACCEL_ASSIGN_OR_RETURN(b[6], Bind(a.alibi_slopes));
      ACCEL_ASSIGN_OR_RETURN(b[7], Bind(a.key_positions));
      u.u[6] = b[6].words(), u.u[7] = b[7].words();
      u.u[25] = 1;
      u.u[26] = U32(a.key_positions.dim(-1));
    }
    u.u[8] = U32(batch), u.u[9] = U32(q_len), u.u[10] = U32(a.kv_len), u.u[11] = U32(p.num_heads);
    u.u[12] = U32(p.num_kv_heads), u.u[13] = U32(p.head_dim), u.u[14] = U32(a.q.row_stride());
    u.u[15] = U32(a.k.row_stride()), u.u[16] = U32(a.k.dim(1) * a.k.row_stride());
    u.f(17, p.scale);
    u.u[18] = p.causal, u.u[19] = U32(std::max(0, p.sliding_window)), u.u[20] = U32(p.query_offset);
    u.u[24] = 1;  // nothing visible: zeros (the CPU kernel's choice)
    return ctx_->Dispatch1D(Shader::kAttention, "CachedAttention", b, u,
                            (static_cast<uint64_t>(batch) * p.num_heads * q_len + 63) / 64);
  }

  Status Copy(const Tensor& src, Tensor& dst) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, dst, "vulkan copy"));
    if (src.on_host() && dst.on_host()) return Backend::Copy(src, dst);
    if (src.on_host()) return Upload(src, dst);
    if (dst.on_host()) {
      if (dst.contiguous()) return Download(src, dst);
      ACCEL_ASSIGN_OR_RETURN(Tensor tmp, Tensor::Zeros(src.dtype(), src.shape()));
      ACCEL_RETURN_IF_ERROR(Download(src, tmp));
      return Backend::Copy(tmp, dst);
    }
    if (src.numel() == 0) return Status::Ok();
    ACCEL_ASSIGN_OR_RETURN(Binding s, Bind(src));
    ACCEL_ASSIGN_OR_RETURN(Binding d, Bind(dst));
    const Rows rs = RowsOf(src, s, true), rd = RowsOf(dst, d, true);
    std::vector<VkBufferCopy> regions;
    if (src.contiguous() && dst.contiguous()) {
      if (src.nbytes() > 0) regions.push_back({s.offset, d.offset, src.nbytes()});
    } else {
      for (int64_t r = 0; r < rs.rows; ++r) {
        if (rs.row_bytes) regions.push_back({rs.device_offset + r * rs.stride, rd.device_offset + r * rd.stride, rs.row_bytes});
      }
    }
    const auto span = [](const Rows& r) {
      return std::pair<size_t, size_t>{r.device_offset, r.device_offset + (r.rows - 1) * r.stride + r.row_bytes};
    };
    const auto [s0, s1] = span(rs);
    const auto [d0, d1] = span(rd);
    if (s.buffer == d.buffer && s0 < d1 && d0 < s1) {
      // Overlapping ranges of one buffer are undefined for vkCmdCopyBuffer: through a temporary.
      ACCEL_ASSIGN_OR_RETURN(Buffer * tmp, ctx_->CreateBuffer(src.nbytes()));
      std::vector<VkBufferCopy> in, out;
      for (int64_t r = 0; r < rs.rows; ++r) {
        in.push_back({rs.device_offset + r * rs.stride, r * rs.row_bytes, rs.row_bytes});
        out.push_back({r * rs.row_bytes, rd.device_offset + r * rd.stride, rs.row_bytes});
      }
      Status st = ctx_->CopyRegions(*s.buffer, *tmp, in);
      if (st.ok()) st = ctx_->CopyRegions(*tmp, *d.buffer, out);
      ctx_->Release(tmp);  // after the recorded copies have run
      return st;
    }
    return ctx_->CopyRegions(*s.buffer, *d.buffer, regions);
  }

  Status Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                Tensor& y) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(CheckConv(x, w, bias, y, 3, stride, padding, groups, "Conv1d"));
    const int64_t lout = (x.dim(2) + 2 * padding - w.dim(2)) / stride + 1;
    if (lout <= 0 || y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != lout) return InvalidArgument("Conv1d output shape");
    return Conv("Conv1d", x, w, bias, stride, 0, padding, groups, y, 1, x.dim(2), 1, w.dim(2), 1, lout);
  }

  Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                Tensor& y) override {
    auto lock = Lock();
    ACCEL_RETURN_IF_ERROR(CheckConv(x, w, bias, y, 4, stride, padding, groups, "Conv2d"));
    const int64_t ho = (x.dim(2) + 2 * padding - w.dim(2)) / stride + 1, wo = (x.dim(3) + 2 * padding - w.dim(3)) / stride + 1;
    if (ho <= 0 || wo <= 0 || y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != ho || y.dim(3) != wo) {
      return InvalidArgument("Conv2d output shape");
    }
    return Conv("Conv2d", x, w, bias, stride, padding, padding, groups, y, x.dim(2), x.dim(3), w.dim(2), w.dim(3), ho, wo);
  }

  Status TransposeLast2(const Tensor& x, Tensor& y) override {
    auto lock = Lock();
    if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || x.rank() < 2 || !x.contiguous() || !y.contiguous()) {
      return InvalidArgument("TransposeLast2 needs contiguous f32 [B, R, C]");
    }
    const int64_t rows = x.dim(-2), cols = x.dim(-1);
    const int64_t batch = rows * cols != 0 ? static_cast<int64_t>(x.numel()) / (rows * cols) : 0;
    if (y.numel() != x.numel() || y.dim(-1) != rows || y.dim(-2) != cols) {
      return InvalidArgument("TransposeLast2 output " + ShapeToString(y.shape()) + " for input " + ShapeToString(x.shape()));
    }
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, nullptr, nullptr, &y}, b, p));
    p.u[4] = U32(batch), p.u[5] = U32(rows), p.u[6] = U32(cols);
    return ctx_->Dispatch1D(Shader::kTranspose, "TransposeLast2", b, p, (x.numel() + 255) / 256);
  }

  Status MaxPool2d(const Tensor&, int, int, int, Tensor&) override {
    return Unsupported("vulkan backend has no MaxPool2d (Exec runs it on the CPU)");
  }

  Status GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override {
    auto lock = Lock();
    if (x.rank() != 3 || x.dtype() != DType::kF32 || y.numel() != x.numel() || !x.contiguous() || !y.contiguous()) {
      return InvalidArgument("GroupNorm needs f32 [B, C, L]");
    }
    const int64_t batch = x.dim(0), channels = x.dim(1), len = x.dim(2);
    if (groups <= 0 || channels % groups != 0) {
      return InvalidArgument("GroupNorm: " + std::to_string(channels) + " channels in " + std::to_string(groups) + " groups");
    }
    if (static_cast<int64_t>(gamma.numel()) != channels || (beta && static_cast<int64_t>(beta->numel()) != channels)) {
      return InvalidArgument("GroupNorm weight size != channels " + std::to_string(channels));
    }
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &gamma, beta, &y}, b, p));
    p.u[4] = U32(batch), p.u[5] = U32(channels), p.u[6] = U32(len), p.u[7] = U32(groups), p.u[8] = beta != nullptr;
    p.f(9, eps);
    return ctx_->Dispatch1D(Shader::kGroupNorm, "GroupNorm", b, p, static_cast<uint64_t>(batch * groups));
  }

 private:
  std::unique_lock<std::recursive_mutex> Lock() { return std::unique_lock(ctx_->mutex()); }

  static Status CheckConv(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& y, int rank, int stride,
                          int padding, int groups, const char* op) {
    if (x.rank() != rank || w.rank() != rank || y.rank() != rank || groups <= 0 || stride <= 0 || padding < 0 ||
        !x.contiguous() || !w.contiguous() || !y.contiguous()) {
      return InvalidArgument(std::string(op) + " shapes: x " + ShapeToString(x.shape()) + ", w " + ShapeToString(w.shape()) +
                             ", y " + ShapeToString(y.shape()));
    }
    if (x.dtype() != DType::kF32 || w.dtype() != DType::kF32 || y.dtype() != DType::kF32 ||
        (bias && bias->dtype() != DType::kF32)) {
      return InvalidArgument(std::string(op) + " needs f32 tensors");
    }
    if (x.dim(1) % groups || w.dim(0) % groups || w.dim(1) * groups != x.dim(1)) {
      return InvalidArgument(std::string(op) + " channels/groups");
    }
    if (bias && static_cast<int64_t>(bias->numel()) != w.dim(0)) return InvalidArgument(std::string(op) + " bias size");
    return Status::Ok();
  }

  // Conv1d is the 2-D case with one row (h = kh = ho = 1, no row padding).
  Status Conv(const char* op, const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int pad_h, int pad_w,
              int groups, Tensor& y, int64_t h, int64_t wd, int64_t kh, int64_t kw, int64_t ho, int64_t wo) {
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&x, &w, bias, &y}, b, p));
    p.u[4] = U32(x.dim(0)), p.u[5] = U32(x.dim(1)), p.u[6] = U32(h), p.u[7] = U32(wd), p.u[8] = U32(w.dim(0));
    p.u[9] = U32(kh), p.u[10] = U32(kw), p.u[11] = U32(ho), p.u[12] = U32(wo), p.u[13] = U32(stride);
    p.u[14] = U32(pad_h), p.u[15] = U32(pad_w), p.u[16] = U32(groups), p.u[17] = bias != nullptr;
    return ctx_->Dispatch1D(Shader::kConv, op, b, p, (y.numel() + 255) / 256);
  }

  static Status CheckHeads(const AttentionParams& p) {
    if (p.num_heads <= 0 || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.head_dim <= 0) {
      return InvalidArgument("attention heads " + std::to_string(p.num_heads) + "/" + std::to_string(p.num_kv_heads));
    }
    return Status::Ok();
  }

  // The rows of `t` in its buffer; a contiguous tensor is one row unless `per_row`.
  Rows RowsOf(const Tensor& t, const Binding& b, bool per_row = false) const {
    const size_t elem = Info(t.dtype()).block_bytes;
    if (t.contiguous() && !per_row) return {b.offset, t.nbytes(), t.nbytes(), 1};
    return {b.offset, elem * static_cast<size_t>(t.dim(-1)), elem * static_cast<size_t>(t.row_stride()), t.rows()};
  }

  // The device buffer behind `t`: its own memory, or the mirror of a host constant.
  Result<Binding> Bind(const Tensor& t) {
    if (t.on_host()) return Mirror(t);
    if (t.device() != device_) return InvalidArgument("vulkan: a tensor on " + t.device().ToString() + " given to " + device_.ToString());
    ACCEL_ASSIGN_OR_RETURN(Binding b, ctx_->Locate(t.storage<void>()));
    if (b.offset % 4 != 0 && t.dtype() != DType::kU8) return InvalidArgument("vulkan: tensor is not 4-byte aligned");
    return b;
  }

  // The four-buffer layout most shaders share (shaders/common.glsl): tensors bound to slots 0..3
  // (null: unbound) and each slot's offset, in words, in push word 0..3.
  Status BindSlots(std::initializer_list<const Tensor*> tensors, std::array<Binding, 8>& b, Push& p) {
    size_t slot = 0;
    for (const Tensor* t : tensors) {
      if (t) { ACCEL_ASSIGN_OR_RETURN(b[slot], Bind(*t)); }
      p.u[slot] = b[slot].words();
      ++slot;
    }
    return Status::Ok();
  }

  // Host constants live on the device once (graph/constant_mirrors.h).
  Result<Binding> Mirror(const Tensor& t) {
    ACCEL_ASSIGN_OR_RETURN(Tensor d, mirrors_.Get(*this, t));
    return ctx_->Locate(d.storage<void>());
  }

  // mode: 0 activate x, 1 scale x, 2 add, 3 mul, 4 gated activation (bn = F).
  Status Elementwise(const char* op, uint32_t mode, const Tensor& a, const Tensor* b2, Tensor* y, size_t bn, Activation act,
                     float s, size_t n = 0) {
    if (!a.contiguous() || (b2 && !b2->contiguous()) || (y && !y->contiguous())) {
      return InvalidArgument(std::string(op) + " takes contiguous tensors");
    }
    if (a.dtype() != DType::kF32 || (b2 && b2->dtype() != DType::kF32) || (y && y->dtype() != DType::kF32)) {
      return InvalidArgument(std::string(op) + " takes f32 tensors");
    }
    if (n == 0) n = a.numel();
    if (n == 0) return Status::Ok();
    ACCEL_RETURN_IF_ERROR(RequireWords(n, op));
    std::array<Binding, 8> b{};
    Push p;
    ACCEL_RETURN_IF_ERROR(BindSlots({&a, b2, nullptr, y}, b, p));
    p.u[4] = U32(n), p.u[5] = U32(bn), p.u[6] = mode, p.u[7] = static_cast<uint32_t>(act);
    p.f(8, s);
    return ctx_->Dispatch1D(Shader::kElementwise, op, b, p, (n + 255) / 256);
  }

  // The attention shaders walk one query's keys x head dims in single loops; past ~30K
  // iterations lavapipe returns wrong results (likely Mesa's per-loop iteration cap). Such calls
  // are declined (Unsupported) and run on the host until a kernel spreads one query's keys over a
  // workgroup.
  static Status CheckAttentionWork(const char* op, int64_t kv_len, const AttentionParams& p) {
    constexpr int64_t kMaxKeysTimesDims = 24 * 1024;
    if (kv_len * p.head_dim > kMaxKeysTimesDims) {
      return Unsupported(std::string("vulkan ") + op + " over " + std::to_string(kv_len) + " keys x " +
                         std::to_string(p.head_dim) + " dims (the kernel takes up to " + std::to_string(kMaxKeysTimesDims) + ")");
    }
    return Status::Ok();
  }

  Status SelfAttention(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                       const Tensor* bias, Tensor& out) {
    if (q.rank() != 3 || k.rank() != 3 || k.shape() != v.shape() || k.row_stride() != v.row_stride() || q.dim(0) != k.dim(0) ||
        q.dtype() != DType::kF32 || k.dtype() != DType::kF32 || v.dtype() != DType::kF32) {
      return InvalidArgument("attention q " + ShapeToString(q.shape()) + " / k " + ShapeToString(k.shape()) + " / v " +
                             ShapeToString(v.shape()));
    }
    ACCEL_RETURN_IF_ERROR(CheckHeads(p));
    const int64_t batch = q.dim(0), q_len = q.dim(1), kv_len = k.dim(1);
    ACCEL_RETURN_IF_ERROR(CheckAttentionWork(op, kv_len, p));
    if (out.numel() != static_cast<size_t>(batch * q_len * p.num_heads * p.head_dim) || out.dtype() != DType::kF32 ||
        !out.contiguous()) {
      return InvalidArgument("attention output shape");
    }
    std::array<Binding, 8> b{};
    Push u;
    ACCEL_RETURN_IF_ERROR(BindSlots({&q, &k, &v, &out}, b, u));
    if (p.key_padding_mask) {
      const Tensor& m = *p.key_padding_mask;
      if (m.numel() != static_cast<size_t>(batch * kv_len)) {
        return InvalidArgument("attention mask " + ShapeToString(m.shape()) + " does not match batch " + std::to_string(batch) +
                               " x keys " + std::to_string(kv_len));
      }
      switch (m.dtype()) {
        case DType::kI64: u.u[21] = 1; break;
        case DType::kI32: u.u[21] = 2; break;
        case DType::kF32: u.u[21] = 3; break;
        default: return InvalidArgument("attention mask dtype " + std::string(Name(m.dtype())));
      }
      if (!m.contiguous()) return InvalidArgument("attention mask must be contiguous");
      ACCEL_ASSIGN_OR_RETURN(b[4], Bind(m));
      u.u[4] = b[4].words();
      u.u[22] = U32(kv_len);
    }
    if (bias) {
      ACCEL_ASSIGN_OR_RETURN(b[5], Bind(*bias));
      u.u[5] = b[5].words();
      u.u[23] = 1;
    }
    u.u[8] = U32(batch), u.u[9] = U32(q_len), u.u[10] = U32(kv_len), u.u[11] = U32(p.num_heads);
    u.u[12] = U32(p.num_kv_heads), u.u[13] = U32(p.head_dim), u.u[14] = U32(q.row_stride());
    u.u[15] = U32(k.row_stride()), u.u[16] = U32(kv_len * k.row_stride());
    u.f(17, p.scale);
    u.u[18] = p.causal, u.u[19] = U32(std::max(0, p.sliding_window)), u.u[20] = U32(p.query_offset);
    u.u[24] = 0;  // nothing visible: the mean of all values (HF's additive-mask softmax)
    return ctx_->Dispatch1D(Shader::kAttention, op, b, u, (static_cast<uint64_t>(batch) * p.num_heads * q_len + 63) / 64);
  }

  std::shared_ptr<Context> ctx_;
  Device device_;
  VulkanAllocator allocator_;
  std::shared_ptr<SmallHeap> small_;
  int64_t gemv_rows_ = 8;  // Linear with at most this many rows uses linear_gemv.comp
  ConstantMirrors mirrors_;
};

}  // namespace

int DeviceCount() { return CountDevices(); }

Result<std::unique_ptr<Backend>> CreateBackend(int index) {
  auto ctx = Context::Create(index);
  if (!ctx.ok()) {
    const std::string spec = "vulkan:" + std::to_string(index);
    if (ctx.status().code() == StatusCode::kUnsupported) return Unsupported("device '" + spec + "': " + ctx.status().message());
    return ctx.status().WithContext("device '" + spec + "'");
  }
  return std::unique_ptr<Backend>(new VulkanBackend(std::move(*ctx), index));
}

}  // namespace accel::vulkan
