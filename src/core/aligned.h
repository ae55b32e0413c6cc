#pragma once
// A 64-byte aligned heap buffer (one cache line, one zmm register) that can be held through
// a shared_ptr<const void> keep-alive. Buffers of 2 MiB and more (packed weights, KV caches)
// are 2 MiB aligned and ask for transparent huge pages: streaming weights at decode reads
// ~20% faster without a TLB miss every 4 KiB (bench/membw), and the kernel's default THP mode
// ("madvise") gives huge pages only to memory that asks.
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace accel {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  // Buffers this large (packed weights, long activations) are placed on 2 MiB boundaries and
  // offered to transparent huge pages: streaming hundreds of MiB of weights through 4 KiB pages
  // costs a TLB miss every 4 KiB.
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kHugeThreshold = size_t{4} << 20;

  // Null on allocation failure (never throws).
  static std::shared_ptr<AlignedBuffer> Allocate(size_t bytes) {
    const size_t align = bytes >= kHugeThreshold ? kHugePage : kAlignment;
    size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded ? rounded : align);
    if (!p) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure changes nothing
#endif
    auto* buffer = new (std::nothrow) AlignedBuffer(p, bytes);
    if (!buffer) {
      std::free(p);
      return nullptr;
    }
    return std::shared_ptr<AlignedBuffer>(buffer);
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
