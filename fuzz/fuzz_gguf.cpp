// libFuzzer target: the GGUF reader, its metadata (typed values, arrays under the element cap),
// the header-only config and weight size that memory admission estimates with, the mapping onto
// the llama template's names, and the embedded tokenizer (tokenizer.ggml.* -> tokenizer.json ->
// Tokenizer), and the importance-matrix reader.
#include <cstddef>
#include <cstdint>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_tokenizer.h"
#include "formats/imatrix_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = accel::GgufFile::Parse(data, size, "fuzz.gguf", nullptr);
  if (f.ok()) {
    for (const auto& [name, info] : (*f)->tensors()) (void)(*f)->Get(name);
    for (const auto& [key, value] : (*f)->metadata().items()) (void)(*f)->metadata_type(key);
    (void)accel::GgufHfConfig(**f);
    (void)accel::GgufLoadedWeightBytes(**f);
    (void)accel::GgufToHf(**f);
    (void)accel::TokenizerFromGguf(**f);
    (void)accel::ChatTemplateFromGguf(**f);
    (void)accel::ImatrixFromGguf(**f);
  }
  return 0;
}
