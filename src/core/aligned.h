#pragma once
// A 64-byte aligned heap buffer (one cache line, one zmm register) that can be held through
// a shared_ptr<const void> keep-alive.
#include <cstddef>
#include <cstdlib>
#include <memory>

namespace accel {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  // Null on allocation failure (never throws).
  static std::shared_ptr<AlignedBuffer> Allocate(size_t bytes) {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment);
    if (!p) return nullptr;
    return std::shared_ptr<AlignedBuffer>(new (std::nothrow) AlignedBuffer(p, bytes));
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  AlignedBuffer(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};

}  // namespace accel
