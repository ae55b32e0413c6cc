#pragma once
// The result of encoding one text (or pair), field for field like Hugging Face's Encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace accel {

struct Encoding {
  std::vector<int64_t> ids, type_ids, attention_mask, special_tokens_mask;
  std::vector<std::string> tokens;
  // Unicode code point offsets into the sequence the token came from (as HF's Python and
  // Node bindings report them); [0,0] for tokens added by the post-processor.
  std::vector<std::pair<size_t, size_t>> offsets;
  // The same spans in UTF-8 bytes (what the Rust core reports).
  std::vector<std::pair<size_t, size_t>> byte_offsets;
  std::vector<int64_t> word_ids;      // -1 = none
  std::vector<int64_t> sequence_ids;  // -1 = none (post-processor tokens)
  std::vector<Encoding> overflowing;  // pieces cut off by truncation

  size_t size() const { return ids.size(); }
  // Appends `other` (HF Encoding::merge_with, without overflow combinations).
  void Append(const Encoding& other);
  void Append(Encoding&& other);
  void Reserve(size_t n);
  void SetSequenceId(int64_t id);
  void SetTypeIds(int64_t type_id);
};

}  // namespace accel
