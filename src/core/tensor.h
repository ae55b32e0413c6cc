#pragma once
// A row-major tensor: dtype + shape + device + a pointer, plus a keep-alive handle to whatever
// owns the bytes (a heap buffer, an mmapped file, an arena, a device buffer). Views share the
// owner, so a weight tensor can point straight into an mmapped safetensors file.
//
// Views may be strided in one way only: consecutive rows of the last dimension may be
// `row_stride` elements apart (a column slice of a fused q|k|v projection, a KV cache's rows).
// Every other dimension is dense over rows. Ops that accept such views say so; the others
// require contiguous().
//
// Only host tensors expose their bytes through data<T>(): asking a device tensor for host data
// is a programmer error that stops the process with a message (backends reach their own memory
// through storage<T>()).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
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
  static Tensor Wrap(DType dtype, Shape shape, void* data, std::shared_ptr<const void> owner, Device device = {});

  bool defined() const { return data_ != nullptr || !shape_.empty(); }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Negative indices count from the end, as in Python.
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  size_t numel() const { return numel_; }
  size_t nbytes() const;

  const Device& device() const { return device_; }
  bool on_host() const { return device_.is_host(); }
  // Elements between the starts of consecutive rows of the last dimension.
  int64_t row_stride() const { return row_stride_ ? row_stride_ : (shape_.empty() ? 1 : shape_.back()); }
  bool contiguous() const { return row_stride_ == 0 || shape_.empty() || row_stride_ == shape_.back(); }
  // Number of rows of the last dimension (product of the leading dimensions).
  int64_t rows() const;

  // Host bytes; fatal on a device tensor.
  template <typename T> T* data() { CheckHost(); return static_cast<T*>(data_); }
  template <typename T> const T* data() const { CheckHost(); return static_cast<const T*>(data_); }
  void* raw() { CheckHost(); return data_; }
  const void* raw() const { CheckHost(); return data_; }
  // The bytes wherever they live: for the backend that owns the tensor's device.
  template <typename T> T* storage() const { return static_cast<T*>(data_); }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Same bytes, new shape (element counts must agree; a strided view keeps its last dimension).
  Result<Tensor> Reshape(Shape shape) const;
  // Rows [begin, end) of the first dimension, sharing memory (and the row stride).
  Tensor SliceRows(int64_t begin, int64_t end) const;
  // Elements [begin, end) of the last dimension of every row: a strided view sharing memory.
  Tensor Columns(int64_t begin, int64_t end) const;
  // The same view tagged with another device: for a backend whose device memory the host can
  // address (the emulated device) handing its tensors to host kernels.
  Tensor OnDevice(Device device) const {
    Tensor t = *this;
    t.device_ = device;
    return t;
  }
  // Deep copy of a contiguous host tensor into a new owning tensor.
  Tensor Clone() const;
  // Converts a float tensor (f32/f16/bf16/f64) to a new owning f32 tensor.
  Result<Tensor> ToF32() const;

 private:
  void CheckHost() const {
    if (!device_.is_host()) HostAccessToDeviceTensor();
  }
  [[noreturn]] void HostAccessToDeviceTensor() const;

  DType dtype_ = DType::kF32;
  Shape shape_;
  size_t numel_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
  Device device_;
  int64_t row_stride_ = 0;  // 0: dense rows
};

}  // namespace accel
