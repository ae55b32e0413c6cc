// Encoding arbitrary bytes with real tokenizers (every fixture model type) never crashes:
// invalid UTF-8 is an error, anything else encodes and decodes.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/tokenizer.h"

namespace {
std::vector<std::unique_ptr<accel::Tokenizer>>& Tokenizers() {
  static auto* list = [] {
    auto* v = new std::vector<std::unique_ptr<accel::Tokenizer>>();
    for (const char* name : {"bert-wordpiece", "gpt2-bytelevel-bpe", "llama3-bpe", "clip-bpe", "roberta-bpe", "t5-unigram",
                             "t5-spm-unigram", "llama2-spm-bpe", "llama2-bpe-metaspace", "whisper-bpe"}) {
      auto t = accel::Tokenizer::Load(std::string(ACCEL_TOKENIZER_DATA) + "/" + name);
      if (t.ok()) v->push_back(std::move(t).value());
    }
    auto spm = accel::Tokenizer::Load(std::string(ACCEL_TOKENIZER_DATA) + "/t5-spm-unigram/tokenizer.model");
    if (spm.ok()) v->push_back(std::move(spm).value());
    return v;
  }();
  return *list;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& toks = Tokenizers();
  if (toks.empty()) __builtin_trap();  // fixture data missing: the target would test nothing
  auto& tok = toks[data[0] % toks.size()];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto e = tok->Encode(text, (data[0] & 0x80) != 0);
  if (e.ok()) {
    auto d = tok->Decode(e->ids, true);
    (void)d;
  }
  return 0;
}
