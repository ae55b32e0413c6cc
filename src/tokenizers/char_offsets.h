#pragma once
// Byte spans of a text -> code point spans, as HF's BytesToCharOffsetConverter does it (what
// the Python and Node bindings report).
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizers/normalized_string.h"

namespace accel::tok {

class CharOffsets {
 public:
  explicit CharOffsets(std::string_view text) : size_(text.size()), char_of_byte_(text.size()) {
    uint32_t ci = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && i > 0) ++ci;
      char_of_byte_[i] = ci;
    }
  }

  Span operator()(Span o) const {
    if (o.first >= size_) return o;  // not in HF's map: it keeps the byte offsets
    size_t s = char_of_byte_[o.first];
    size_t e;
    if (o.second < size_) e = char_of_byte_[o.second];
    else e = (o.second >= 1 && o.second - 1 < size_ ? char_of_byte_[o.second - 1] : s) + 1;
    return {s, e};
  }

 private:
  size_t size_;
  std::vector<uint32_t> char_of_byte_;
};

}  // namespace accel::tok
