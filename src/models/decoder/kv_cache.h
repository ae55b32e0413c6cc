#pragma once
// Keys and values of every layer for a batch of sequences, allocated once on the backend's
// device up to a capacity (the longest prompt + new tokens the caller allows), accounted in
// bytes, and reusable for the next request through Reset(). The bookkeeping (mask, positions)
// lives on the host; the model uploads what a step needs. Each slot also records whether it is
// a real token (the attention mask) and its position (cumsum of the mask - 1, as HF generate
// computes it).
//
// Two ways to fill it:
//  - in lockstep (the default): every row takes the same number of slots per step; shorter
//    prompts are left-padded (mask 0), as one generate() call over a batch does;
//  - per row (continuous batching, SetPerRow): each row holds its own sequence and advances
//    one token per step at its own length; a prompt prefilled in a cache of its own joins a
//    free row through AdoptRow, and a finished or cancelled row is released with ResetRow.
//    Rows [0, active_rows) take part in a step; the scheduler keeps live rows low.
//
// Storage: f32 (the default), or q8_0 / q4_0 blocks of 32 along each head's head_dim (which
// must then be a multiple of 32): 8.5 / 4.5 bits per value instead of 32. New rows are
// quantized as they are written (Exec::StoreRows) and the backend's CachedAttention reads the
// blocks directly; a backend that cannot is refused when the cache is created.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/exec.h"

namespace accel::decoder {

class KvCache {
 public:
  // One [batch, capacity, kv_width] block for K and one for V per layer, on the device of `ex`'s
  // backend, in `dtype` (f32, q8_0 or q4_0; the quantized ones need head_dim % 32 == 0).
  static Result<std::unique_ptr<KvCache>> Create(Exec& ex, int64_t layers, int64_t batch, int64_t capacity,
                                                 int64_t kv_width, DType dtype = DType::kF32, int64_t head_dim = 0);
  // Whether `dtype` can store a KV cache ("f32", "q8_0", "q4_0"), parsed from its name.
  static Result<DType> ParseDType(std::string_view name);

  int64_t layers() const { return layers_; }
  int64_t batch() const { return active_rows_; }  // rows taking part in the next step
  int64_t rows() const { return rows_; }          // rows allocated
  int64_t capacity() const { return capacity_; }
  int64_t kv_width() const { return kv_width_; }
  DType dtype() const { return kv_.dtype(); }
  // Slots used: the same for every row in lockstep, the longest row's per row.
  int64_t length() const { return length_; }
  int64_t row_length(int64_t b) const { return row_length_[static_cast<size_t>(b)]; }
  size_t bytes() const;  // everything this cache holds, K/V and bookkeeping
  bool Fits(int64_t batch, int64_t capacity, int64_t kv_width, int64_t layers) const;

  // [batch(), capacity, kv_width] in dtype() on the cache's device.
  Tensor keys(int64_t layer) const { return Block(layer, 0); }
  Tensor values(int64_t layer) const { return Block(layer, 1); }

  // Reserves slots for n new tokens per row with mask[b * n + i] (nonzero = real), filling
  // their positions (from the mask, or the slot index when !positions_from_mask, as HF's
  // forward() does for most models); errors when the cache would overflow (nothing changes then).
  // In lockstep the slots are [length, length + n) of every row. Per row, n is 1 and row b's
  // token goes to slot row_length(b); a row with mask 0 is idle: it computes into its slot 0,
  // sees only that, and keeps nothing.
  Status Append(int64_t n, const std::vector<uint8_t>& mask, bool positions_from_mask = true);
  // The slot of row b's first token of the step Append reserved.
  int64_t step_start(int64_t b) const { return step_start_[static_cast<size_t>(b)]; }
  // How many slots the step's keys span: queries see slots [0, span) that their row's mask allows.
  int64_t span() const { return span_; }
  // The step's tokens are in the cache (called once every layer has written them).
  void CommitStep();
  // Positions of the slots [first, first + n) of row b.
  const int64_t* positions(int64_t b, int64_t first) const { return positions_.data() + b * capacity_ + first; }
  const uint8_t* mask() const { return mask_.data(); }             // [batch(), capacity]
  const float* key_positions() const { return key_pos_f_.data(); }  // positions as float, for ALiBi
  // Forget the contents; the memory stays for the next request.
  void Reset();

  // --- per row (continuous batching) ---
  void SetPerRow(bool per_row) { per_row_ = per_row; }
  bool per_row() const { return per_row_; }
  // Rows [0, rows) take part in the following steps (1 <= rows <= rows()).
  Status SetActiveRows(int64_t rows);
  // Row src_row of `src` (a lockstep cache, all its length() slots: K/V and bookkeeping)
  // becomes row dst_row of this one, on the same device.
  Status AdoptRow(Exec& ex, const KvCache& src, int64_t src_row, int64_t dst_row);
  // Frees row b for the next sequence.
  void ResetRow(int64_t b);

 private:
  Tensor Block(int64_t layer, int which) const;
  void RecomputeLength();
  int64_t layers_ = 0, rows_ = 0, active_rows_ = 0, capacity_ = 0, kv_width_ = 0, length_ = 0, span_ = 0;
  bool per_row_ = false;
  Tensor kv_;  // [layers * 2, rows, capacity, kv_width]
  std::vector<uint8_t> mask_;
  std::vector<int64_t> positions_;
  std::vector<float> key_pos_f_;
  std::vector<int64_t> real_count_;  // real tokens per row so far
  std::vector<int64_t> row_length_;  // slots used per row
  std::vector<int64_t> step_start_, step_end_;  // the step Append reserved, per row
};

}  // namespace accel::decoder
