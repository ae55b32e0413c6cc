#pragma once
// A dense, row-major tensor: dtype + shape + a pointer, plus a keep-alive handle to whatever
// owns the bytes (a heap buffer, an mmapped file, an arena). Views share the owner, so a
// weight tensor can point straight into an mmapped safetensors file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace accel {

using Shape = std::vector<int64_t>;

std::string ShapeToString(const Shape& shape);
// Number of elements, or nullopt on a negative dimension or overflow.
std::optional<size_t> NumElements(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // Zero-filled, 64-byte aligned, owning.
  static Result<Tensor> Zeros(DType dtype, Shape shape);
  // Wraps memory owned by `owner` (may be null when the caller guarantees lifetime).
  static Tensor Wrap(DType dtype, Shape shape, void* data, std::shared_ptr<const void> owner);

  bool defined() const { return data_ != nullptr || !shape_.empty(); }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Negative indices count from the end, as in Python.
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  size_t numel() const { return numel_; }
  size_t nbytes() const;

  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }
  void* raw() { return data_; }
  const void* raw() const { return data_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Same bytes, new shape (element counts must agree).
  Result<Tensor> Reshape(Shape shape) const;
  // Rows [begin, end) of the first dimension, sharing memory.
  Tensor SliceRows(int64_t begin, int64_t end) const;
  // Deep copy into a new owning tensor.
  Tensor Clone() const;
  // Converts a float tensor (f32/f16/bf16/f64) to a new owning f32 tensor.
  Result<Tensor> ToF32() const;

 private:
  DType dtype_ = DType::kF32;
  Shape shape_;
  size_t numel_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
};

}  // namespace accel
