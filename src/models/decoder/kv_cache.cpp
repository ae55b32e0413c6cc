#include "models/decoder/kv_cache.h"

#include <limits>
#include <string>

namespace accel::decoder {

Result<std::unique_ptr<KvCache>> KvCache::Create(Exec& ex, int64_t layers, int64_t batch, int64_t capacity,
                                                 int64_t kv_width) {
  if (layers <= 0 || batch <= 0 || capacity <= 0 || kv_width <= 0) {
    return InvalidArgument("KV cache of " + std::to_string(batch) + " x " + std::to_string(capacity) + " slots");
  }
  const double floats = 2.0 * static_cast<double>(layers) * batch * capacity * kv_width;
  if (floats * sizeof(float) > static_cast<double>(std::numeric_limits<size_t>::max() / 2)) {
    return OutOfMemory("KV cache of " + std::to_string(capacity) + " slots is too large");
  }
  auto c = std::unique_ptr<KvCache>(new KvCache());
  c->layers_ = layers, c->batch_ = batch, c->capacity_ = capacity, c->kv_width_ = kv_width;
  auto kv = ex.AllocPersistent({layers * 2, batch, capacity, kv_width});
  if (!kv.ok()) return OutOfMemory("KV cache of " + std::to_string(layers) + " layers x " + std::to_string(batch) + " x " +
                                   std::to_string(capacity) + " slots: " + kv.status().message());
  c->kv_ = std::move(kv).value();
  const size_t slots = static_cast<size_t>(batch * capacity);
  c->mask_.assign(slots, 0);
  c->positions_.assign(slots, 0);
  c->key_pos_f_.assign(slots, 0.0f);
  c->real_count_.assign(static_cast<size_t>(batch), 0);
  return c;
}

Tensor KvCache::Block(int64_t layer, int which) const {
  const int64_t i = layer * 2 + which;
  return kv_.SliceRows(i, i + 1).Reshape({batch_, capacity_, kv_width_}).value();
}

size_t KvCache::bytes() const {
  return kv_.nbytes() + mask_.size() * (sizeof(uint8_t) + sizeof(int64_t) + sizeof(float)) +
         real_count_.size() * sizeof(int64_t);
}

bool KvCache::Fits(int64_t batch, int64_t capacity, int64_t kv_width, int64_t layers) const {
  return batch == batch_ && capacity <= capacity_ && kv_width == kv_width_ && layers == layers_;
}

Status KvCache::Append(int64_t n, const std::vector<uint8_t>& mask, bool positions_from_mask) {
  if (n <= 0 || mask.size() != static_cast<size_t>(batch_ * n)) return InvalidArgument("KV cache append of a malformed mask");
  if (length_ + n > capacity_) {
    return OutOfMemory("KV cache limit reached: " + std::to_string(length_) + " + " + std::to_string(n) +
                       " tokens exceed its " + std::to_string(capacity_) + " slots");
  }
  for (int64_t b = 0; b < batch_; ++b) {
    for (int64_t i = 0; i < n; ++i) {
      const size_t slot = static_cast<size_t>(b * capacity_ + length_ + i);
      const bool real = mask[static_cast<size_t>(b * n + i)] != 0;
      real_count_[static_cast<size_t>(b)] += real;
      mask_[slot] = real;
      // HF: position_ids = cumsum(mask) - 1, with padding slots set to 1.
      positions_[slot] = !positions_from_mask ? length_ + i : real ? real_count_[static_cast<size_t>(b)] - 1 : 1;
      key_pos_f_[slot] = static_cast<float>(real ? positions_[slot] : 0);
    }
  }
  return Status::Ok();
}

void KvCache::Reset() {
  length_ = 0;
  std::fill(mask_.begin(), mask_.end(), 0);
  std::fill(real_count_.begin(), real_count_.end(), 0);
}

}  // namespace accel::decoder
