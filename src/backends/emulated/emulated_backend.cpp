#include "backends/emulated/emulated_backend.h"

#include "core/arena.h"

namespace accel {

namespace {

constexpr Device kEmulated{DeviceKind::kEmulated, 0};

// Host memory handed out as emulated-device memory.
class EmulatedAllocator final : public BlockAllocator {
 public:
  Device device() const override { return kEmulated; }
  std::shared_ptr<void> AllocateBlock(size_t bytes) override { return HostAllocator::Instance().AllocateBlock(bytes); }
};

// The host kernels' view of an emulated tensor (weights are host tensors already).
Tensor H(const Tensor& t) { return t.OnDevice({}); }
const Tensor* H(const Tensor* t, Tensor& holder) {
  if (!t) return nullptr;
  holder = H(*t);
  return &holder;
}

class EmulatedBackend final : public Backend {
 public:
  explicit EmulatedBackend(Backend& host) : host_(host) {}

  std::string_view name() const override { return "emulated"; }
  Device device() const override { return kEmulated; }
  BlockAllocator& allocator() override { return allocator_; }
  Result<Tensor> Allocate(DType dtype, Shape shape) override {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(dtype, std::move(shape)));
    return t.OnDevice(kEmulated);
  }
  Status Copy(const Tensor& src, Tensor& dst) override {
    Tensor d = H(dst);
    return host_.Copy(H(src), d);
  }
  Status QuantizeRows(const Tensor& src, Tensor& dst) override {
    Tensor d = H(dst);
    return host_.QuantizeRows(H(src), d);
  }
  // Like a GPU backend: convolutions, GroupNorm and pooling run on the host through Exec's
  // fallback. Quantized KV caches as the host backend has them.
  bool Supports(Op op, DType dtype) const override {
    if (dtype != DType::kF32) return (op == Op::kCachedAttention || op == Op::kQuantizeRows) && host_.Supports(op, dtype);
    return op != Op::kConv1d && op != Op::kConv2d && op != Op::kGroupNorm && op != Op::kMaxPool2d;
  }

  Result<PackedLinear> PackLinear(const Tensor& w, DType compute) override { return host_.PackLinear(w, compute); }
  Status Linear(const Tensor& x, const PackedLinear& w, const Tensor* bias, Activation act, Tensor& y) override {
    Tensor hb, hy = H(y);
    return host_.Linear(H(x), w, H(bias, hb), act, hy);
  }
  Status LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps, Tensor& y) override {
    Tensor hb, hy = H(y);
    return host_.LayerNorm(H(x), H(gamma), H(beta, hb), eps, hy);
  }
  Status RmsNorm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) override {
    Tensor hy = H(y);
    return host_.RmsNorm(H(x), H(gamma), eps, hy);
  }
  Status Activate(Activation act, Tensor& x) override {
    Tensor hx = H(x);
    return host_.Activate(act, hx);
  }
  Status Softmax(Tensor& x) override {
    Tensor hx = H(x);
    return host_.Softmax(hx);
  }
  Status Add(const Tensor& a, const Tensor& b, Tensor& y) override {
    Tensor hy = H(y);
    return host_.Add(H(a), H(b), hy);
  }
  Status Mul(const Tensor& a, const Tensor& b, Tensor& y) override {
    Tensor hy = H(y);
    return host_.Mul(H(a), H(b), hy);
  }
  Status Scale(Tensor& x, float s) override {
    Tensor hx = H(x);
    return host_.Scale(hx, s);
  }
  Status Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p, Tensor& out) override {
    Tensor hm, ho = H(out);
    AttentionParams hp = p;
    hp.key_padding_mask = H(p.key_padding_mask, hm);
    return host_.Attention(H(q), H(k), H(v), hp, ho);
  }
  Status AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                           const Tensor& bias, Tensor& out) override {
    Tensor hm, ho = H(out);
    AttentionParams hp = p;
    hp.key_padding_mask = H(p.key_padding_mask, hm);
    return host_.AttentionWithBias(H(q), H(k), H(v), hp, H(bias), ho);
  }
  Status CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p, Tensor& out) override {
    CachedAttentionArgs h{H(a.q), H(a.k), H(a.v), a.kv_len, H(a.allowed), H(a.alibi_slopes), H(a.key_positions)};
    Tensor ho = H(out);
    return host_.CachedAttention(h, p, ho);
  }
  Status Rope(Tensor& x, const Tensor& positions, const RopeParams& p) override {
    Tensor hx = H(x);
    return host_.Rope(hx, H(positions), p);
  }
  Status GatedActivation(const Tensor& gate_up, Activation act, Tensor& out) override {
    Tensor ho = H(out);
    return host_.GatedActivation(H(gate_up), act, ho);
  }
  Status Embedding(const Tensor& table, const Tensor& ids, Tensor& out) override {
    Tensor ho = H(out);
    return host_.Embedding(H(table), H(ids), ho);
  }
  Status TransposeLast2(const Tensor& x, Tensor& y) override {
    Tensor hy = H(y);
    return host_.TransposeLast2(H(x), hy);
  }
  Status Conv1d(const Tensor&, const Tensor&, const Tensor*, int, int, int, Tensor&) override {
    return Unsupported("emulated device has no Conv1d");
  }
  Status Conv2d(const Tensor&, const Tensor&, const Tensor*, int, int, int, Tensor&) override {
    return Unsupported("emulated device has no Conv2d");
  }
  Status GroupNorm(const Tensor&, int, const Tensor&, const Tensor*, float, Tensor&) override {
    return Unsupported("emulated device has no GroupNorm");
  }
  Status MaxPool2d(const Tensor&, int, int, int, Tensor&) override { return Unsupported("emulated device has no MaxPool2d"); }

 private:
  Backend& host_;
  EmulatedAllocator allocator_;
};

}  // namespace

std::unique_ptr<Backend> CreateEmulatedBackend(Backend& host) { return std::make_unique<EmulatedBackend>(host); }

}  // namespace accel
