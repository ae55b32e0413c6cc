#include "graph/exec.h"

#include <vector>

namespace accel {

namespace {

Shape WithLastDim(const Shape& s, int64_t last) {
  Shape out = s;
  out.back() = last;
  return out;
}

// Ops other than the attention/norm/rope/copy family read dense rows.
Status RequireDense(const Tensor& t, Op op) {
  if (t.defined() && !t.contiguous()) {
    return InvalidArgument(std::string(OpName(op)) + " takes contiguous tensors, got a strided view " + ShapeToString(t.shape()));
  }
  return Status::Ok();
}

}  // namespace

std::string ExecStats::FallbackSummary() const {
  std::string out;
  for (size_t i = 0; i < fallbacks_by_op.size(); ++i) {
    if (!fallbacks_by_op[i]) continue;
    out += (out.empty() ? "" : ", ") + std::string(OpName(static_cast<Op>(i))) + " x" + std::to_string(fallbacks_by_op[i]);
  }
  return out;
}

void ExecStats::Add(const ExecStats& o) {
  fallback_ops += o.fallback_ops;
  edge_copies += o.edge_copies;
  edge_bytes += o.edge_bytes;
  uploads += o.uploads;
  downloads += o.downloads;
  for (size_t i = 0; i < fallbacks_by_op.size(); ++i) fallbacks_by_op[i] += o.fallbacks_by_op[i];
}

Exec::Exec(Backend& backend, Arena& arena, Backend* fallback)
    : backend_(backend), arena_(arena), fallback_(backend.device().is_host() ? nullptr : fallback) {}

// Host copies of one fallback op's device tensors; Finish() writes the outputs back.
class Exec::HostEdge {
 public:
  HostEdge(Backend& device, ExecStats& stats) : device_(device), stats_(stats) {}

  Result<Tensor> Get(const Tensor& t) {
    if (!t.defined() || t.on_host()) return t;
    ACCEL_ASSIGN_OR_RETURN(Tensor host, Tensor::Zeros(t.dtype(), t.shape()));
    ACCEL_RETURN_IF_ERROR(device_.Download(t, host));
    Count(host);
    return host;
  }
  Status Put(const Tensor& host, Tensor& t) {
    if (t.on_host()) return Status::Ok();  // the op wrote it directly
    Count(host);
    return device_.Upload(host, t);
  }

 private:
  void Count(const Tensor& t) {
    ++stats_.edge_copies;
    stats_.edge_bytes += static_cast<int64_t>(t.nbytes());
  }
  Backend& device_;
  ExecStats& stats_;
};

template <typename F>
Status Exec::OnHost(Op op, std::initializer_list<const Tensor*> ins, std::initializer_list<Tensor*> outs, F&& run) {
  ++stats_.fallback_ops;
  ++stats_.fallbacks_by_op[static_cast<size_t>(op)];
  HostEdge edge(backend_, stats_);
  std::vector<Tensor> in, out;
  for (const Tensor* t : ins) {
    ACCEL_ASSIGN_OR_RETURN(Tensor h, edge.Get(*t));
    in.push_back(std::move(h));
  }
  // Outputs are downloaded too: several ops write into (or accumulate onto) an input.
  for (Tensor* t : outs) {
    ACCEL_ASSIGN_OR_RETURN(Tensor h, edge.Get(*t));
    out.push_back(std::move(h));
  }
  ACCEL_RETURN_IF_ERROR(run(*fallback_, in, out));
  size_t i = 0;
  for (Tensor* t : outs) ACCEL_RETURN_IF_ERROR(edge.Put(out[i++], *t));
  return Status::Ok();
}

using Ins = const std::vector<Tensor>&;
using Outs = std::vector<Tensor>&;

Result<Tensor> Exec::Upload(const Tensor& host) {
  if (device().is_host() || !host.on_host()) return host;
  ACCEL_ASSIGN_OR_RETURN(Tensor t, Alloc(host.shape(), host.dtype()));
  ACCEL_RETURN_IF_ERROR(backend_.Upload(host, t));
  ++stats_.uploads;
  return t;
}

Result<Tensor> Exec::Download(const Tensor& t) {
  ++stats_.downloads;
  if (t.on_host()) return t.Clone();
  ACCEL_ASSIGN_OR_RETURN(Tensor host, Tensor::Zeros(t.dtype(), t.shape()));
  ACCEL_RETURN_IF_ERROR(backend_.Download(t, host));
  return host;
}

Status Exec::Copy(const Tensor& src, Tensor& dst) {
  if (src.on_host() && !dst.on_host()) return backend_.Upload(src, dst);  // a constant into device memory
  if (Native(Op::kCopy, src.dtype())) return backend_.Copy(src, dst);
  return OnHost(Op::kCopy, {&src}, {&dst}, [&](Backend& h, Ins in, Outs out) { return h.Copy(in[0], out[0]); });
}

Status Exec::StoreRows(const Tensor& src, Tensor& dst) {
  if (src.dtype() == dst.dtype()) return Copy(src, dst);
  if (src.dtype() != DType::kF32 || (dst.dtype() != DType::kQ8_0 && dst.dtype() != DType::kQ4_0) || src.shape() != dst.shape()) {
    return InvalidArgument("cannot store " + std::string(Name(src.dtype())) + " " + ShapeToString(src.shape()) + " rows into " +
                           std::string(Name(dst.dtype())) + " " + ShapeToString(dst.shape()));
  }
  if (Native(Op::kQuantizeRows, dst.dtype()) && !Declined(backend_.QuantizeRows(src, dst))) return last_native_;
  return OnHost(Op::kQuantizeRows, {&src}, {&dst}, [&](Backend& h, Ins in, Outs out) { return h.QuantizeRows(in[0], out[0]); });
}

Result<Tensor> Exec::Linear(const Tensor& x, const LinearLayer& layer, Activation act) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kLinear));
  if (observer_ != nullptr) {
    // Observers read host memory: a device input is downloaded for them (not counted as a
    // result download, so stats stay those of the run itself).
    if (x.on_host()) {
      ACCEL_RETURN_IF_ERROR(observer_->OnLinear(layer, x));
    } else {
      ACCEL_ASSIGN_OR_RETURN(Tensor host, Tensor::Zeros(x.dtype(), x.shape()));
      ACCEL_RETURN_IF_ERROR(backend_.Download(x, host));
      ACCEL_RETURN_IF_ERROR(observer_->OnLinear(layer, host));
    }
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(WithLastDim(x.shape(), layer.weight.out_features)));
  // No fallback: the weight is packed for this backend alone.
  ACCEL_RETURN_IF_ERROR(backend_.Linear(x, layer.weight, layer.bias_ptr(), act, y));
  return y;
}

Result<Tensor> Exec::LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor* beta, float eps) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(x.shape()));
  if (Native(Op::kLayerNorm, x.dtype())) {
    ACCEL_RETURN_IF_ERROR(backend_.LayerNorm(x, gamma, beta, eps, y));
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kLayerNorm, {&x, &gamma, beta ? beta : &none}, {&y}, [&](Backend& h, Ins in, Outs out) {
      return h.LayerNorm(in[0], in[1], beta ? &in[2] : nullptr, eps, out[0]);
    }));
  }
  return y;
}

Status Exec::RmsNormInto(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
  if (Native(Op::kRmsNorm, x.dtype())) return backend_.RmsNorm(x, gamma, eps, y);
  return OnHost(Op::kRmsNorm, {&x, &gamma}, {&y}, [&](Backend& h, Ins in, Outs out) { return h.RmsNorm(in[0], in[1], eps, out[0]); });
}

Result<Tensor> Exec::RmsNorm(const Tensor& x, const Tensor& gamma, float eps) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(x.shape()));
  ACCEL_RETURN_IF_ERROR(RmsNormInto(x, gamma, eps, y));
  return y;
}

Status Exec::AddInto(const Tensor& a, const Tensor& b, Tensor& y) {
  ACCEL_RETURN_IF_ERROR(RequireDense(a, Op::kAdd));
  ACCEL_RETURN_IF_ERROR(RequireDense(b, Op::kAdd));
  if (Native(Op::kAdd, a.dtype())) return backend_.Add(a, b, y);
  return OnHost(Op::kAdd, {&a, &b}, {&y}, [&](Backend& h, Ins in, Outs out) { return h.Add(in[0], in[1], out[0]); });
}

Result<Tensor> Exec::Add(const Tensor& a, const Tensor& b) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(a.shape()));
  ACCEL_RETURN_IF_ERROR(AddInto(a, b, y));
  return y;
}

Status Exec::MulInto(const Tensor& a, const Tensor& b, Tensor& y) {
  ACCEL_RETURN_IF_ERROR(RequireDense(a, Op::kMul));
  ACCEL_RETURN_IF_ERROR(RequireDense(b, Op::kMul));
  if (Native(Op::kMul, a.dtype())) return backend_.Mul(a, b, y);
  return OnHost(Op::kMul, {&a, &b}, {&y}, [&](Backend& h, Ins in, Outs out) { return h.Mul(in[0], in[1], out[0]); });
}

Status Exec::Activate(Activation act, Tensor& x) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kActivate));
  if (Native(Op::kActivate, x.dtype())) return backend_.Activate(act, x);
  return OnHost(Op::kActivate, {}, {&x}, [&](Backend& h, Ins, Outs out) { return h.Activate(act, out[0]); });
}

Status Exec::Softmax(Tensor& x) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kSoftmax));
  if (Native(Op::kSoftmax, x.dtype())) return backend_.Softmax(x);
  return OnHost(Op::kSoftmax, {}, {&x}, [&](Backend& h, Ins, Outs out) { return h.Softmax(out[0]); });
}

Status Exec::Scale(Tensor& x, float s) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kScale));
  if (Native(Op::kScale, x.dtype())) return backend_.Scale(x, s);
  return OnHost(Op::kScale, {}, {&x}, [&](Backend& h, Ins, Outs out) { return h.Scale(out[0], s); });
}

Status Exec::Rope(Tensor& x, const Tensor& positions, const RopeParams& p) {
  if (Native(Op::kRope, x.dtype())) return backend_.Rope(x, positions, p);
  return OnHost(Op::kRope, {&positions}, {&x}, [&](Backend& h, Ins in, Outs out) { return h.Rope(out[0], in[0], p); });
}

Result<Tensor> Exec::Embedding(const Tensor& table, const Tensor& ids) {
  Shape s = ids.shape();
  s.push_back(table.dim(-1));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(std::move(s)));
  if (ids.on_host() && !device().is_host()) {
    // Checked here, while the ids are readable: device kernels cannot report a bad id.
    const int64_t vocab = table.dim(0);
    for (size_t i = 0; i < ids.numel(); ++i) {
      const int64_t id = ids.dtype() == DType::kI64 ? ids.data<int64_t>()[i]
                         : ids.dtype() == DType::kI32 ? ids.data<int32_t>()[i] : -1;
      if (id < 0 || id >= vocab) {
        return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
      }
    }
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor dev_ids, Upload(ids));
  if (Native(Op::kEmbedding, table.dtype())) {
    ACCEL_RETURN_IF_ERROR(backend_.Embedding(table, dev_ids, y));
  } else {
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kEmbedding, {&table, &dev_ids}, {&y},
                                 [&](Backend& h, Ins in, Outs out) { return h.Embedding(in[0], in[1], out[0]); }));
  }
  return y;
}

namespace {
// The padding mask of `p` on the device; `holder` keeps an uploaded copy alive.
Result<AttentionParams> MaskOnDevice(Exec& ex, const AttentionParams& p, Tensor& holder) {
  if (!p.key_padding_mask || !p.key_padding_mask->on_host() || ex.device().is_host()) return p;
  ACCEL_ASSIGN_OR_RETURN(holder, ex.Upload(*p.key_padding_mask));
  AttentionParams q = p;
  q.key_padding_mask = &holder;
  return q;
}
}  // namespace

Result<Tensor> Exec::Attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p0) {
  Tensor mask;
  ACCEL_ASSIGN_OR_RETURN(AttentionParams p, MaskOnDevice(*this, p0, mask));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({q.dim(0), q.dim(1), static_cast<int64_t>(p.num_heads) * p.head_dim}));
  if (Native(Op::kAttention, q.dtype()) && !Declined(backend_.Attention(q, k, v, p, y))) {
    ACCEL_RETURN_IF_ERROR(last_native_);
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kAttention, {&q, &k, &v, p.key_padding_mask ? p.key_padding_mask : &none}, {&y},
                                 [&](Backend& h, Ins in, Outs out) {
                                   AttentionParams hp = p;
                                   hp.key_padding_mask = p.key_padding_mask ? &in[3] : nullptr;
                                   return h.Attention(in[0], in[1], in[2], hp, out[0]);
                                 }));
  }
  return y;
}

Result<Tensor> Exec::AttentionWithBias(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p0,
                                       const Tensor& score_bias) {
  Tensor mask;
  ACCEL_ASSIGN_OR_RETURN(AttentionParams p, MaskOnDevice(*this, p0, mask));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({q.dim(0), q.dim(1), static_cast<int64_t>(p.num_heads) * p.head_dim}));
  if (Native(Op::kAttentionWithBias, q.dtype()) && !Declined(backend_.AttentionWithBias(q, k, v, p, score_bias, y))) {
    ACCEL_RETURN_IF_ERROR(last_native_);
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kAttentionWithBias,
                                 {&q, &k, &v, &score_bias, p.key_padding_mask ? p.key_padding_mask : &none}, {&y},
                                 [&](Backend& h, Ins in, Outs out) {
                                   AttentionParams hp = p;
                                   hp.key_padding_mask = p.key_padding_mask ? &in[4] : nullptr;
                                   return h.AttentionWithBias(in[0], in[1], in[2], hp, in[3], out[0]);
                                 }));
  }
  return y;
}

Result<Tensor> Exec::CachedAttention(const CachedAttentionArgs& a, const AttentionParams& p) {
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({a.q.dim(0), a.q.dim(1), static_cast<int64_t>(p.num_heads) * p.head_dim}));
  // A quantized cache goes to the backend only if it says it reads one (a kernel that does not
  // would take the blocks for floats).
  const bool native = Native(Op::kCachedAttention, a.q.dtype()) && Native(Op::kCachedAttention, a.k.dtype());
  if (native && !Declined(backend_.CachedAttention(a, p, y))) {
    ACCEL_RETURN_IF_ERROR(last_native_);
  } else {
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kCachedAttention, {&a.q, &a.k, &a.v, &a.allowed, &a.alibi_slopes, &a.key_positions},
                                 {&y}, [&](Backend& h, Ins in, Outs out) {
                                   CachedAttentionArgs ha{in[0], in[1], in[2], a.kv_len, in[3], in[4], in[5]};
                                   return h.CachedAttention(ha, p, out[0]);
                                 }));
  }
  return y;
}

Result<Tensor> Exec::GatedActivation(const Tensor& gate_up, Activation act) {
  ACCEL_RETURN_IF_ERROR(RequireDense(gate_up, Op::kGatedActivation));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(WithLastDim(gate_up.shape(), gate_up.dim(-1) / 2)));
  if (Native(Op::kGatedActivation, gate_up.dtype())) {
    ACCEL_RETURN_IF_ERROR(backend_.GatedActivation(gate_up, act, y));
  } else {
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kGatedActivation, {&gate_up}, {&y},
                                 [&](Backend& h, Ins in, Outs out) { return h.GatedActivation(in[0], act, out[0]); }));
  }
  return y;
}

namespace {
int64_t ConvOut(int64_t in, int64_t kernel, int stride, int padding) { return (in + 2 * padding - kernel) / stride + 1; }
}  // namespace

Result<Tensor> Exec::Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kConv1d));
  if (x.rank() != 3 || w.rank() != 3 || stride <= 0) {
    return InvalidArgument("Conv1d input " + ShapeToString(x.shape()) + " / weight " + ShapeToString(w.shape()));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({x.dim(0), w.dim(0), ConvOut(x.dim(2), w.dim(2), stride, padding)}));
  if (Native(Op::kConv1d, x.dtype())) {
    ACCEL_ASSIGN_OR_RETURN(Tensor dx, Upload(x));  // model inputs (audio) arrive on the host
    ACCEL_RETURN_IF_ERROR(backend_.Conv1d(dx, w, bias, stride, padding, groups, y));
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kConv1d, {&x, &w, bias ? bias : &none}, {&y}, [&](Backend& h, Ins in, Outs out) {
      return h.Conv1d(in[0], in[1], bias ? &in[2] : nullptr, stride, padding, groups, out[0]);
    }));
  }
  return y;
}

Result<Tensor> Exec::Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kConv2d));
  if (x.rank() != 4 || w.rank() != 4 || stride <= 0) {
    return InvalidArgument("Conv2d input " + ShapeToString(x.shape()) + " / weight " + ShapeToString(w.shape()));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({x.dim(0), w.dim(0), ConvOut(x.dim(2), w.dim(2), stride, padding),
                                          ConvOut(x.dim(3), w.dim(3), stride, padding)}));
  if (Native(Op::kConv2d, x.dtype())) {
    ACCEL_ASSIGN_OR_RETURN(Tensor dx, Upload(x));  // model inputs (pixels) arrive on the host
    ACCEL_RETURN_IF_ERROR(backend_.Conv2d(dx, w, bias, stride, padding, groups, y));
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kConv2d, {&x, &w, bias ? bias : &none}, {&y}, [&](Backend& h, Ins in, Outs out) {
      return h.Conv2d(in[0], in[1], bias ? &in[2] : nullptr, stride, padding, groups, out[0]);
    }));
  }
  return y;
}

Result<Tensor> Exec::TransposeLast2(const Tensor& x) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kTransposeLast2));
  Shape s = x.shape();
  if (s.size() < 2) return InvalidArgument("TransposeLast2 of " + ShapeToString(s));
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(std::move(s)));
  if (Native(Op::kTransposeLast2, x.dtype())) {
    ACCEL_RETURN_IF_ERROR(backend_.TransposeLast2(x, y));
  } else {
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kTransposeLast2, {&x}, {&y},
                                 [&](Backend& h, Ins in, Outs out) { return h.TransposeLast2(in[0], out[0]); }));
  }
  return y;
}

Result<Tensor> Exec::GroupNorm(const Tensor& x, int groups, const Tensor& gamma, const Tensor* beta, float eps) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kGroupNorm));
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc(x.shape()));
  if (Native(Op::kGroupNorm, x.dtype())) {
    ACCEL_RETURN_IF_ERROR(backend_.GroupNorm(x, groups, gamma, beta, eps, y));
  } else {
    const Tensor none;
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kGroupNorm, {&x, &gamma, beta ? beta : &none}, {&y}, [&](Backend& h, Ins in, Outs out) {
      return h.GroupNorm(in[0], groups, in[1], beta ? &in[2] : nullptr, eps, out[0]);
    }));
  }
  return y;
}

Result<Tensor> Exec::MaxPool2d(const Tensor& x, int kernel, int stride, int padding) {
  ACCEL_RETURN_IF_ERROR(RequireDense(x, Op::kMaxPool2d));
  if (x.rank() != 4 || kernel <= 0 || stride <= 0 || padding < 0 || 2 * padding > kernel ||
      x.dim(2) + 2 * padding < kernel || x.dim(3) + 2 * padding < kernel) {
    return InvalidArgument("MaxPool2d of " + ShapeToString(x.shape()) + " with kernel " + std::to_string(kernel) + ", stride " +
                           std::to_string(stride) + ", padding " + std::to_string(padding));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor y, Alloc({x.dim(0), x.dim(1), ConvOut(x.dim(2), kernel, stride, padding),
                                          ConvOut(x.dim(3), kernel, stride, padding)}));
  if (Native(Op::kMaxPool2d, x.dtype()) && !Declined(backend_.MaxPool2d(x, kernel, stride, padding, y))) {
    ACCEL_RETURN_IF_ERROR(last_native_);
  } else {
    ACCEL_RETURN_IF_ERROR(OnHost(Op::kMaxPool2d, {&x}, {&y}, [&](Backend& h, Ins in, Outs out) {
      return h.MaxPool2d(in[0], kernel, stride, padding, out[0]);
    }));
  }
  return y;
}

}  // namespace accel
