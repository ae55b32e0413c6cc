#include "core/tensor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/aligned.h"
#include "core/half.h"

namespace accel {

std::string ShapeToString(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

std::optional<size_t> NumElements(const Shape& shape) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<size_t>::max() / static_cast<size_t>(d)) return std::nullopt;
    n *= static_cast<size_t>(d);
  }
  return n;
}

Result<Tensor> Tensor::Zeros(DType dtype, Shape shape) {
  auto n = NumElements(shape);
  if (!n) return InvalidArgument("invalid tensor shape " + ShapeToString(shape));
  auto bytes = BytesFor(dtype, *n);
  if (!bytes) return InvalidArgument("shape " + ShapeToString(shape) + " is not whole blocks of " + std::string(Name(dtype)));
  auto buffer = AlignedBuffer::Allocate(*bytes);
  if (!buffer) return OutOfMemory("cannot allocate " + std::to_string(*bytes) + " bytes for a tensor");
  std::memset(buffer->data(), 0, *bytes);
  void* data = buffer->data();
  return Wrap(dtype, std::move(shape), data, std::move(buffer));
}

Tensor Tensor::Wrap(DType dtype, Shape shape, void* data, std::shared_ptr<const void> owner, Device device) {
  Tensor t;
  t.device_ = device;
  t.dtype_ = dtype;
  t.numel_ = NumElements(shape).value_or(0);
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  return t;
}

size_t Tensor::nbytes() const { return BytesFor(dtype_, numel_).value_or(0); }

int64_t Tensor::rows() const {
  if (shape_.empty()) return 1;
  int64_t r = 1;
  for (size_t i = 0; i + 1 < shape_.size(); ++i) r *= shape_[i];
  return r;
}

void Tensor::HostAccessToDeviceTensor() const {
  std::fprintf(stderr, "accel: internal error: host access to the bytes of a %s tensor %s on %s\n", Name(dtype_).data(),
               ShapeToString(shape_).c_str(), device_.ToString().c_str());
  std::abort();
}

Result<Tensor> Tensor::Reshape(Shape shape) const {
  auto n = NumElements(shape);
  if (!n || *n != numel_) {
    return InvalidArgument("cannot reshape " + ShapeToString(shape_) + " to " + ShapeToString(shape));
  }
  if (!contiguous()) {
    // Rows stay rows: a strided view may regroup its leading dimensions only.
    if (shape.empty() || shape.back() != shape_.back()) {
      return InvalidArgument("cannot reshape a strided view " + ShapeToString(shape_) + " to " + ShapeToString(shape));
    }
    Tensor t = Wrap(dtype_, std::move(shape), data_, owner_, device_);
    t.row_stride_ = row_stride_;
    return t;
  }
  return Wrap(dtype_, std::move(shape), data_, owner_, device_);
}

Tensor Tensor::SliceRows(int64_t begin, int64_t end) const {
  Shape s = shape_;
  // Elements from one index of the first dimension to the next: its rows of the last
  // dimension, row_stride apart (a rank-1 tensor's "rows" are its elements).
  size_t step = 1;
  if (shape_.size() >= 2) {
    step = static_cast<size_t>(row_stride());
    for (size_t i = 1; i + 1 < shape_.size(); ++i) step *= static_cast<size_t>(shape_[i]);
  }
  s[0] = end - begin;
  size_t offset = *BytesFor(dtype_, step * static_cast<size_t>(begin));
  Tensor t = Wrap(dtype_, std::move(s), static_cast<char*>(data_) + offset, owner_, device_);
  t.row_stride_ = row_stride_;
  return t;
}

Tensor Tensor::Columns(int64_t begin, int64_t end) const {
  Shape s = shape_;
  const int64_t stride = row_stride();
  s.back() = end - begin;
  size_t offset = *BytesFor(dtype_, static_cast<size_t>(begin));
  Tensor t = Wrap(dtype_, std::move(s), static_cast<char*>(data_) + offset, owner_, device_);
  t.row_stride_ = stride;
  return t;
}

Tensor Tensor::Clone() const {
  CheckHost();
  if (!contiguous()) {
    Tensor out = Zeros(dtype_, shape_).value();
    const size_t row_bytes = *BytesFor(dtype_, static_cast<size_t>(shape_.back()));
    const size_t stride_bytes = *BytesFor(dtype_, static_cast<size_t>(row_stride_));
    for (int64_t r = 0; r < rows(); ++r) {
      std::memcpy(static_cast<char*>(out.data_) + r * row_bytes, static_cast<const char*>(data_) + r * stride_bytes, row_bytes);
    }
    return out;
  }
  Tensor out = Zeros(dtype_, shape_).value();
  std::memcpy(out.raw(), data_, nbytes());
  return out;
}

Result<Tensor> Tensor::ToF32() const {
  if (!contiguous()) return Clone().ToF32();
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Zeros(DType::kF32, shape_));
  float* dst = out.data<float>();
  switch (dtype_) {
    case DType::kF32:
      std::memcpy(dst, data_, numel_ * 4);
      break;
    case DType::kF16:
      for (size_t i = 0; i < numel_; ++i) dst[i] = F16ToF32(data<uint16_t>()[i]);
      break;
    case DType::kBF16:
      for (size_t i = 0; i < numel_; ++i) dst[i] = Bf16ToF32(data<uint16_t>()[i]);
      break;
    case DType::kF64:
      for (size_t i = 0; i < numel_; ++i) dst[i] = static_cast<float>(data<double>()[i]);
      break;
    default:
      return Unsupported("cannot convert " + std::string(Name(dtype_)) + " tensor to f32");
  }
  return out;
}

}  // namespace accel
