// libFuzzer target: the GGUF reader, its mapping onto the llama template's names, and the
// embedded tokenizer (tokenizer.ggml.* -> tokenizer.json -> Tokenizer).
#include <cstddef>
#include <cstdint>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = accel::GgufFile::Parse(data, size, "fuzz.gguf", nullptr);
  if (f.ok()) {
    for (const auto& [name, info] : (*f)->tensors()) (void)(*f)->Get(name);
    (void)accel::GgufToHf(**f);
    (void)accel::TokenizerFromGguf(**f);
    (void)accel::ChatTemplateFromGguf(**f);
  }
  return 0;
}
