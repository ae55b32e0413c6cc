#include "core/arena.h"

#include <algorithm>

namespace accel {

void* Arena::AllocateBytes(size_t bytes) {
  size_t rounded = (bytes + AlignedBuffer::kAlignment - 1) / AlignedBuffer::kAlignment * AlignedBuffer::kAlignment;
  // The current block, else the next spare that fits (a rewind leaves them), else a new one.
  while (blocks_.empty() || blocks_[current_].used + rounded > blocks_[current_].buffer->size()) {
    if (!blocks_.empty() && current_ + 1 < blocks_.size()) {
      blocks_[++current_].used = 0;
      continue;
    }
    size_t size = std::max(rounded, blocks_.empty() ? initial_ : blocks_.back().buffer->size() * 2);
    auto buffer = AlignedBuffer::Allocate(size);
    if (!buffer) return nullptr;
    blocks_.push_back({std::move(buffer), 0});
    current_ = blocks_.size() - 1;
  }
  Block& b = blocks_[current_];
  void* p = static_cast<char*>(b.buffer->data()) + b.used;
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
  if (!p) return OutOfMemory("arena cannot allocate " + std::to_string(*bytes) + " bytes");
  return Tensor::Wrap(dtype, std::move(shape), p, nullptr);
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
    auto buffer = AlignedBuffer::Allocate(total);
    if (buffer) blocks_.push_back({std::move(buffer), 0});
  }
  for (auto& b : blocks_) b.used = 0;
  current_ = 0;
  in_use_ = 0;
}

size_t Arena::capacity() const {
  size_t total = 0;
  for (const auto& b : blocks_) total += b.buffer->size();
  return total;
}

}  // namespace accel
