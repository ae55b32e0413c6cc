// What every backend shares: op names, and the memory operations of a backend whose device is
// the host (a device backend overrides all of them).
#include <cstring>
#include <string>

#include "graph/backend.h"

namespace accel {

std::string_view OpName(Op op) {
  static constexpr std::string_view kNames[] = {
      "Linear",         "LayerNorm",      "RmsNorm", "Activate",        "Softmax", "Add",       "Mul",
      "Scale",          "Attention",      "AttentionWithBias", "CachedAttention", "Rope", "GatedActivation",
      "Embedding",      "Conv1d",         "Conv2d",  "TransposeLast2",  "GroupNorm", "MaxPool2d", "Copy",
      "QuantizeRows"};
  static_assert(std::size(kNames) == static_cast<size_t>(Op::kCount));
  return op < Op::kCount ? kNames[static_cast<size_t>(op)] : "?";
}

Status CheckSameLayout(const Tensor& a, const Tensor& b, std::string_view what) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return InvalidArgument(std::string(what) + ": " + std::string(Name(a.dtype())) + " " + ShapeToString(a.shape()) +
                           " into " + std::string(Name(b.dtype())) + " " + ShapeToString(b.shape()));
  }
  return Status::Ok();
}

namespace {

// Row-by-row copy between two host views of one shape (rows may be strided).
void CopyHostRows(const Tensor& src, Tensor& dst) {
  if (src.contiguous() && dst.contiguous()) {
    std::memcpy(dst.storage<void>(), src.storage<void>(), src.nbytes());
    return;
  }
  const size_t elem = Info(src.dtype()).block_bytes;  // strided views are of plain dtypes
  const size_t row_bytes = elem * static_cast<size_t>(src.shape().empty() ? 1 : src.shape().back());
  const int64_t rows = src.rows();
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(dst.storage<char>() + r * dst.row_stride() * elem, src.storage<const char>() + r * src.row_stride() * elem,
                row_bytes);
  }
}

}  // namespace

Result<Tensor> Backend::Allocate(DType dtype, Shape shape) { return Tensor::Zeros(dtype, std::move(shape)); }

Status Backend::Upload(const Tensor& host, Tensor& dst) {
  ACCEL_RETURN_IF_ERROR(CheckSameLayout(host, dst, "upload"));
  CopyHostRows(host, dst);
  return Status::Ok();
}

Status Backend::Download(const Tensor& src, Tensor& host) {
  ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, host, "download"));
  CopyHostRows(src, host);
  return Status::Ok();
}

Status Backend::Copy(const Tensor& src, Tensor& dst) {
  ACCEL_RETURN_IF_ERROR(CheckSameLayout(src, dst, "copy"));
  if (!src.on_host() || !dst.on_host()) return Unsupported(std::string(name()) + " backend cannot copy device tensors");
  CopyHostRows(src, dst);
  return Status::Ok();
}

Status Backend::QuantizeRows(const Tensor&, Tensor& dst) {
  return Unsupported(std::string(name()) + " backend cannot quantize rows to " + std::string(Name(dst.dtype())));
}

}  // namespace accel
