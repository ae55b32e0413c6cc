#include "models/decoder/kv_cache.h"

#include <algorithm>
#include <limits>
#include <string>

namespace accel::decoder {

Result<DType> KvCache::ParseDType(std::string_view name) {
  if (name == "f32") return DType::kF32;
  if (name == "q8_0") return DType::kQ8_0;
  if (name == "q4_0") return DType::kQ4_0;
  return InvalidArgument("KV cache type '" + std::string(name) + "': expected f32, q8_0 or q4_0");
}

Result<std::unique_ptr<KvCache>> KvCache::Create(Exec& ex, int64_t layers, int64_t batch, int64_t capacity,
                                                 int64_t kv_width, DType dtype, int64_t head_dim) {
  if (layers <= 0 || batch <= 0 || capacity <= 0 || kv_width <= 0) {
    return InvalidArgument("KV cache of " + std::to_string(batch) + " x " + std::to_string(capacity) + " slots");
  }
  if (dtype != DType::kF32) {
    const std::string name(Name(dtype));
    if (dtype != DType::kQ8_0 && dtype != DType::kQ4_0) return InvalidArgument("a KV cache cannot be stored in " + name);
    if (head_dim <= 0 || head_dim % 32 != 0 || kv_width % head_dim != 0) {
      return InvalidArgument("a " + name + " KV cache quantizes each head in blocks of 32 values, but this model's head_dim is " +
                             std::to_string(head_dim) + " (not a multiple of 32); use an f32 KV cache");
    }
    if (!ex.BackendSupports(Op::kCachedAttention, dtype) || !ex.BackendSupports(Op::kQuantizeRows, dtype)) {
      return Unsupported("the " + std::string(ex.backend_name()) + " backend cannot attend over a " + name +
                         " KV cache; use an f32 KV cache there");
    }
  }
  const double values = 2.0 * static_cast<double>(layers) * batch * capacity * kv_width;
  if (values * sizeof(float) > static_cast<double>(std::numeric_limits<size_t>::max() / 2)) {
    return OutOfMemory("KV cache of " + std::to_string(capacity) + " slots is too large");
  }
  auto c = std::unique_ptr<KvCache>(new KvCache());
  c->layers_ = layers, c->rows_ = batch, c->active_rows_ = batch, c->capacity_ = capacity, c->kv_width_ = kv_width;
  auto kv = ex.AllocPersistent({layers * 2, batch, capacity, kv_width}, dtype);
  if (!kv.ok()) return OutOfMemory("KV cache of " + std::to_string(layers) + " layers x " + std::to_string(batch) + " x " +
                                   std::to_string(capacity) + " slots: " + kv.status().message());
  c->kv_ = std::move(kv).value();
  const size_t slots = static_cast<size_t>(batch * capacity);
  c->mask_.assign(slots, 0);
  c->positions_.assign(slots, 0);
  c->key_pos_f_.assign(slots, 0.0f);
  c->real_count_.assign(static_cast<size_t>(batch), 0);
  c->row_length_.assign(static_cast<size_t>(batch), 0);
  c->step_start_.assign(static_cast<size_t>(batch), 0);
  c->step_end_.assign(static_cast<size_t>(batch), 0);
  return c;
}

Tensor KvCache::Block(int64_t layer, int which) const {
  const int64_t i = layer * 2 + which;
  Tensor all = kv_.SliceRows(i, i + 1).Reshape({rows_, capacity_, kv_width_}).value();
  return active_rows_ == rows_ ? all : all.SliceRows(0, active_rows_);
}

size_t KvCache::bytes() const {
  return kv_.nbytes() + mask_.size() * (sizeof(uint8_t) + sizeof(int64_t) + sizeof(float)) +
         real_count_.size() * 4 * sizeof(int64_t);
}

bool KvCache::Fits(int64_t batch, int64_t capacity, int64_t kv_width, int64_t layers) const {
  return batch == rows_ && capacity <= capacity_ && kv_width == kv_width_ && layers == layers_;
}

Status KvCache::Append(int64_t n, const std::vector<uint8_t>& mask, bool positions_from_mask) {
  if (n <= 0 || mask.size() != static_cast<size_t>(active_rows_ * n)) return InvalidArgument("KV cache append of a malformed mask");
  if (per_row_) {
    if (n != 1) return InvalidArgument("a per-row KV cache takes one token per row and step, not " + std::to_string(n));
    for (int64_t b = 0; b < active_rows_; ++b) {
      if (row_length_[static_cast<size_t>(b)] >= capacity_) {
        return OutOfMemory("KV cache row " + std::to_string(b) + " is full (" + std::to_string(capacity_) + " slots)");
      }
    }
  } else if (length_ + n > capacity_) {
    return OutOfMemory("KV cache limit reached: " + std::to_string(length_) + " + " + std::to_string(n) +
                       " tokens exceed its " + std::to_string(capacity_) + " slots");
  }
  span_ = 0;
  for (int64_t b = 0; b < active_rows_; ++b) {
    const size_t row = static_cast<size_t>(b);
    const int64_t first = per_row_ ? row_length_[row] : length_;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = first + i;
      const size_t slot = static_cast<size_t>(b * capacity_ + at);
      const bool real = mask[static_cast<size_t>(b * n + i)] != 0;
      real_count_[row] += real;
      // An idle row of a per-row cache sees its scratch slot (cleared again by CommitStep):
      // every query has at least one key.
      mask_[slot] = real || per_row_;
      // HF: position_ids = cumsum(mask) - 1, with padding slots set to 1.
      positions_[slot] = !positions_from_mask ? at : real ? real_count_[row] - 1 : 1;
      key_pos_f_[slot] = static_cast<float>(real ? positions_[slot] : 0);
    }
    step_start_[row] = first;
    step_end_[row] = per_row_ && !mask[row] ? first : first + n;
    span_ = std::max(span_, first + n);
  }
  return Status::Ok();
}

void KvCache::CommitStep() {
  for (int64_t b = 0; b < active_rows_; ++b) {
    const size_t row = static_cast<size_t>(b);
    if (step_end_[row] == step_start_[row]) {
      mask_[static_cast<size_t>(b * capacity_ + step_start_[row])] = 0;  // an idle row keeps nothing
    } else {
      row_length_[row] = step_end_[row];
    }
  }
  if (!per_row_) {
    length_ = span_;
    std::fill(row_length_.begin(), row_length_.end(), length_);
  } else {
    RecomputeLength();
  }
}

void KvCache::RecomputeLength() { length_ = *std::max_element(row_length_.begin(), row_length_.end()); }

void KvCache::Reset() {
  length_ = 0;
  span_ = 0;
  std::fill(mask_.begin(), mask_.end(), 0);
  std::fill(real_count_.begin(), real_count_.end(), 0);
  std::fill(row_length_.begin(), row_length_.end(), 0);
}

Status KvCache::SetActiveRows(int64_t rows) {
  if (rows < 1 || rows > rows_) return InvalidArgument("active rows " + std::to_string(rows) + " of a cache of " + std::to_string(rows_));
  active_rows_ = rows;
  return Status::Ok();
}

Status KvCache::AdoptRow(Exec& ex, const KvCache& src, int64_t src_row, int64_t dst_row) {
  if (src.layers_ != layers_ || src.kv_width_ != kv_width_) return InvalidArgument("KV cache rows of different models");
  if (src.dtype() != dtype()) {
    return InvalidArgument("KV cache rows of " + std::string(Name(src.dtype())) + " adopted into a " + std::string(Name(dtype())) + " cache");
  }
  if (src_row < 0 || src_row >= src.rows_ || dst_row < 0 || dst_row >= rows_) return InvalidArgument("KV cache row out of range");
  const int64_t len = src.length_;
  if (len > capacity_) {
    return OutOfMemory("a sequence of " + std::to_string(len) + " tokens does not fit KV cache rows of " + std::to_string(capacity_));
  }
  for (int64_t layer = 0; layer < layers_ && len > 0; ++layer) {
    for (int which = 0; which < 2; ++which) {
      const int64_t i = layer * 2 + which;
      ACCEL_ASSIGN_OR_RETURN(Tensor from, src.kv_.SliceRows(i, i + 1).Reshape({src.rows_ * src.capacity_, kv_width_}));
      ACCEL_ASSIGN_OR_RETURN(Tensor to, kv_.SliceRows(i, i + 1).Reshape({rows_ * capacity_, kv_width_}));
      Tensor dst = to.SliceRows(dst_row * capacity_, dst_row * capacity_ + len);
      ACCEL_RETURN_IF_ERROR(ex.Copy(from.SliceRows(src_row * src.capacity_, src_row * src.capacity_ + len), dst));
    }
  }
  const size_t s = static_cast<size_t>(src_row * src.capacity_), d = static_cast<size_t>(dst_row * capacity_);
  std::fill(mask_.begin() + static_cast<std::ptrdiff_t>(d), mask_.begin() + static_cast<std::ptrdiff_t>(d + capacity_), 0);
  std::copy_n(src.mask_.begin() + static_cast<std::ptrdiff_t>(s), len, mask_.begin() + static_cast<std::ptrdiff_t>(d));
  std::copy_n(src.positions_.begin() + static_cast<std::ptrdiff_t>(s), len, positions_.begin() + static_cast<std::ptrdiff_t>(d));
  std::copy_n(src.key_pos_f_.begin() + static_cast<std::ptrdiff_t>(s), len, key_pos_f_.begin() + static_cast<std::ptrdiff_t>(d));
  real_count_[static_cast<size_t>(dst_row)] = src.real_count_[static_cast<size_t>(src_row)];
  row_length_[static_cast<size_t>(dst_row)] = len;
  RecomputeLength();
  return Status::Ok();
}

void KvCache::ResetRow(int64_t b) {
  const auto first = mask_.begin() + static_cast<std::ptrdiff_t>(b * capacity_);
  std::fill(first, first + static_cast<std::ptrdiff_t>(capacity_), 0);
  real_count_[static_cast<size_t>(b)] = 0;
  row_length_[static_cast<size_t>(b)] = 0;
  RecomputeLength();
}

}  // namespace accel::decoder
