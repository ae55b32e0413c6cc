#include "tokenizers/encoding.h"

namespace accel {

void Encoding::Append(const Encoding& o) {
  ids.insert(ids.end(), o.ids.begin(), o.ids.end());
  type_ids.insert(type_ids.end(), o.type_ids.begin(), o.type_ids.end());
  attention_mask.insert(attention_mask.end(), o.attention_mask.begin(), o.attention_mask.end());
  special_tokens_mask.insert(special_tokens_mask.end(), o.special_tokens_mask.begin(), o.special_tokens_mask.end());
  tokens.insert(tokens.end(), o.tokens.begin(), o.tokens.end());
  offsets.insert(offsets.end(), o.offsets.begin(), o.offsets.end());
  byte_offsets.insert(byte_offsets.end(), o.byte_offsets.begin(), o.byte_offsets.end());
  word_ids.insert(word_ids.end(), o.word_ids.begin(), o.word_ids.end());
  sequence_ids.insert(sequence_ids.end(), o.sequence_ids.begin(), o.sequence_ids.end());
}

void Encoding::Append(Encoding&& o) {
  tokens.insert(tokens.end(), std::make_move_iterator(o.tokens.begin()), std::make_move_iterator(o.tokens.end()));
  o.tokens.clear();
  Append(static_cast<const Encoding&>(o));
}

void Encoding::Reserve(size_t n) {
  ids.reserve(n);
  type_ids.reserve(n);
  attention_mask.reserve(n);
  special_tokens_mask.reserve(n);
  tokens.reserve(n);
  offsets.reserve(n);
  word_ids.reserve(n);
  sequence_ids.reserve(n);
}

void Encoding::SetSequenceId(int64_t id) { sequence_ids.assign(ids.size(), id); }
void Encoding::SetTypeIds(int64_t type_id) { type_ids.assign(ids.size(), type_id); }

}  // namespace accel
