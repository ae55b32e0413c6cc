// tokenizer.json loading never crashes on arbitrary input, and whatever loads can encode and
// decode arbitrary text.
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizers/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = accel::Tokenizer::FromJson(in);
  if (!t.ok()) return 0;
  for (const char* text : {"Hello, world! 123 héllo 東京 😀", "", "   ", "<s>[CLS]<|endoftext|>"}) {
    auto e = t.value()->Encode(text);
    if (e.ok()) (void)t.value()->Decode(e->ids, true);
    (void)t.value()->EncodePair(text, "pair text", true);
  }
  (void)t.value()->Decode({0, 1, 2, 3, -1, 1 << 30}, false);
  return 0;
}
