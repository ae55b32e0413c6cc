#pragma once
// Bump allocator for activations. A forward pass allocates its intermediates here and the
// caller Reset()s between passes; after the first pass the arena is one block big enough for
// the whole pass, so steady-state inference does no heap allocation. Inside a pass, a layer
// loop rewinds to a mark after each layer, so the pass needs one layer's intermediates, not
// all of them: memory that stays mapped (no page faults) and warm in cache.
#include <cstddef>
#include <memory>
#include <vector>

#include "core/aligned.h"
#include "core/tensor.h"

namespace accel {

// Hands out large blocks of one device's memory; a backend provides one for its device. The
// returned handle frees the block when the last reference goes.
class BlockAllocator {
 public:
  virtual ~BlockAllocator() = default;
  virtual Device device() const = 0;
  // Null on out-of-memory. Blocks are at least 64-byte aligned.
  virtual std::shared_ptr<void> AllocateBlock(size_t bytes) = 0;
};

// Host memory (64-byte aligned, huge pages for large blocks).
class HostAllocator : public BlockAllocator {
 public:
  Device device() const override { return {}; }
  std::shared_ptr<void> AllocateBlock(size_t bytes) override;
  static HostAllocator& Instance();
};

class Arena {
 public:
  explicit Arena(size_t initial_bytes = 1 << 20, BlockAllocator* allocator = nullptr)
      : initial_(initial_bytes), allocator_(allocator ? allocator : &HostAllocator::Instance()) {}
  // Later allocations come from `allocator`'s device; existing blocks are dropped.
  void SetAllocator(BlockAllocator& allocator);
  Device device() const { return allocator_->device(); }

  // Uninitialised, 64-byte aligned; valid until Reset() or a Rewind() to a mark taken before.
  Result<Tensor> Allocate(DType dtype, Shape shape);
  void* AllocateBytes(size_t bytes);  // null on out-of-memory

  // Where the next allocation goes.
  struct Mark {
    size_t block = 0, used = 0, in_use = 0;
  };
  Mark mark() const;
  // Frees everything allocated since `m`; the blocks stay for the allocations that follow.
  void Rewind(const Mark& m);

  // Frees everything; if the last pass spilled into several blocks, they become one.
  void Reset();
  size_t capacity() const;
  size_t high_water() const { return high_water_; }

 private:
  struct Block {
    std::shared_ptr<void> memory;
    size_t size = 0;
    size_t used = 0;
  };
  bool NewBlock(size_t bytes);
  size_t initial_;
  BlockAllocator* allocator_;
  std::vector<Block> blocks_;
  size_t current_ = 0;  // the block allocations come from; later blocks are empty spares
  size_t in_use_ = 0;
  size_t high_water_ = 0;
};

}  // namespace accel
