#include "core/arena.h"

#include <algorithm>

namespace accel {

std::shared_ptr<void> HostAllocator::AllocateBlock(size_t bytes) {
  std::shared_ptr<AlignedBuffer> buffer = AlignedBuffer::Allocate(bytes);
  if (!buffer) return nullptr;
  void* data = buffer->data();
  return std::shared_ptr<void>(buffer, data);  // aliases the buffer: frees it with the last handle
}

HostAllocator& HostAllocator::Instance() {
  static HostAllocator allocator;
  return allocator;
}

void Arena::SetAllocator(BlockAllocator& allocator) {
  allocator_ = &allocator;
  blocks_.clear();
  current_ = in_use_ = 0;
}

bool Arena::NewBlock(size_t bytes) {
  std::shared_ptr<void> memory = allocator_->AllocateBlock(bytes);
  if (!memory) return false;
  blocks_.push_back({std::move(memory), bytes, 0});
  return true;
}

void* Arena::AllocateBytes(size_t bytes) {
  size_t rounded = (bytes + AlignedBuffer::kAlignment - 1) / AlignedBuffer::kAlignment * AlignedBuffer::kAlignment;
  // The current block, else the next spare that fits (a rewind leaves them), else a new one.
  while (blocks_.empty() || blocks_[current_].used + rounded > blocks_[current_].size) {
    if (!blocks_.empty() && current_ + 1 < blocks_.size()) {
      blocks_[++current_].used = 0;
      continue;
    }
    size_t size = std::max(rounded, blocks_.empty() ? initial_ : blocks_.back().size * 2);
    if (!NewBlock(size)) return nullptr;
    current_ = blocks_.size() - 1;
  }
  Block& b = blocks_[current_];
  void* p = static_cast<char*>(b.memory.get()) + b.used;
  b.used += rounded;
  in_use_ += rounded;
  high_water_ = std::max(high_water_, in_use_);
  return p;
}

Result<Tensor> Arena::Allocate(DType dtype, Shape shape) {
  auto n = NumElements(shape);
  if (!n) return InvalidArgument("invalid tensor shape " + ShapeToString(shape));
  auto bytes = BytesFor(dtype, *n);
  if (!bytes) return InvalidArgument("bad size for shape " + ShapeToString(shape));
  void* p = AllocateBytes(*bytes);
  if (!p) {
    return OutOfMemory("arena cannot allocate " + std::to_string(*bytes) + " bytes on " + allocator_->device().ToString() +
                       " for a " + std::string(Name(dtype)) + " " + ShapeToString(shape) + " activation");
  }
  return Tensor::Wrap(dtype, std::move(shape), p, nullptr, allocator_->device());
}

Arena::Mark Arena::mark() const {
  if (blocks_.empty()) return {};
  return {current_, blocks_[current_].used, in_use_};
}

void Arena::Rewind(const Mark& m) {
  if (blocks_.empty()) return;
  current_ = std::min(m.block, blocks_.size() - 1);
  blocks_[current_].used = m.used;
  for (size_t i = current_ + 1; i < blocks_.size(); ++i) blocks_[i].used = 0;
  in_use_ = m.in_use;
}

void Arena::Reset() {
  if (blocks_.size() > 1) {
    size_t total = capacity();
    blocks_.clear();
    NewBlock(total);  // on failure the next pass grows block by block again
  }
  for (auto& b : blocks_) b.used = 0;
  current_ = 0;
  in_use_ = 0;
}

size_t Arena::capacity() const {
  size_t total = 0;
  for (const auto& b : blocks_) total += b.size;
  return total;
}

}  // namespace accel
