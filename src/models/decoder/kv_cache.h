#pragma once
// Keys and values of every layer for a batch of sequences, allocated once on the backend's
// device up to a capacity (the longest prompt + new tokens the caller allows), accounted in
// bytes, and reusable for the next request through Reset(). The bookkeeping (mask, positions)
// lives on the host; the model uploads what a step needs. Each slot also records whether it is a real token (the
// attention mask) and its position (cumsum of the mask - 1, as HF generate computes it).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "graph/exec.h"

namespace accel::decoder {

class KvCache {
 public:
  // One f32 [batch, capacity, kv_width] block for K and one for V per layer, on the device of `ex`'s backend.
  static Result<std::unique_ptr<KvCache>> Create(Exec& ex, int64_t layers, int64_t batch, int64_t capacity,
                                                 int64_t kv_width);

  int64_t layers() const { return layers_; }
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_width() const { return kv_width_; }
  int64_t length() const { return length_; }
  size_t bytes() const;  // everything this cache holds, K/V and bookkeeping
  bool Fits(int64_t batch, int64_t capacity, int64_t kv_width, int64_t layers) const;

  // [batch, capacity, kv_width] on the cache's device.
  Tensor keys(int64_t layer) const { return Block(layer, 0); }
  Tensor values(int64_t layer) const { return Block(layer, 1); }

  // Reserves slots [length, length + n) for new tokens with mask[b * n + i] (nonzero = real),
  // filling their positions (from the mask, or the slot index when !positions_from_mask, as HF's
  // forward() does for most models); errors when the cache would overflow (nothing changes then).
  Status Append(int64_t n, const std::vector<uint8_t>& mask, bool positions_from_mask = true);
  // Positions of the slots [first, first + n) of row b.
  const int64_t* positions(int64_t b, int64_t first) const { return positions_.data() + b * capacity_ + first; }
  const uint8_t* mask() const { return mask_.data(); }             // [batch, capacity]
  const float* key_positions() const { return key_pos_f_.data(); }  // positions as float, for ALiBi
  void CommitLength(int64_t length) { length_ = length; }
  // Forget the contents; the memory stays for the next request.
  void Reset();

 private:
  Tensor Block(int64_t layer, int which) const;
  int64_t layers_ = 0, batch_ = 0, capacity_ = 0, kv_width_ = 0, length_ = 0;
  Tensor kv_;  // [layers * 2, batch, capacity, kv_width]
  std::vector<uint8_t> mask_;
  std::vector<int64_t> positions_;
  std::vector<float> key_pos_f_;
  std::vector<int64_t> real_count_;  // real tokens per row so far
};

}  // namespace accel::decoder
