// The fast paths (tokenizers/byte_level_words.h for the byte-level fixtures, split_words.h for
// BERT's) give exactly the general pipeline's encoding on any valid UTF-8: the first byte picks
// the tokenizer, the rest is the text.
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/backend.h"
#include "tokenizers/unicode.h"

namespace {
struct Pair {
  std::unique_ptr<accel::tok::Backend> fast, general;
};
const std::vector<Pair>& Backends() {
  static const auto* list = [] {
    auto* v = new std::vector<Pair>();
    for (const char* name : {"gpt2-bytelevel-bpe", "llama3-bpe", "roberta-bpe", "whisper-bpe", "bert-wordpiece"}) {
      std::ifstream in(std::string(ACCEL_TOKENIZER_DATA) + "/" + name + "/tokenizer.json");
      std::string text((std::istreambuf_iterator<char>(in)), {});
      auto fast = accel::tok::ParseHfTokenizer(text, nullptr, nullptr, true);
      auto general = accel::tok::ParseHfTokenizer(text, nullptr, nullptr, false);
      // Fixture data missing, or no fast path taken: the target would test nothing.
      if (!fast.ok() || !general.ok() || !(fast.value()->fast_byte_level() || fast.value()->fast_split_words()))
        __builtin_trap();
      v->push_back({std::move(fast).value(), std::move(general).value()});
    }
    return v;
  }();
  return *list;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (accel::tok::FindInvalidUtf8(text) != std::string_view::npos) return 0;
  const Pair& p = Backends()[data[0] % Backends().size()];
  auto a = p.fast->EncodeSequence(text, 0);
  auto b = p.general->EncodeSequence(text, 0);
  if (a.ok() != b.ok()) __builtin_trap();
  if (!a.ok()) return 0;
  if (a->ids != b->ids || a->tokens != b->tokens || a->offsets != b->offsets || a->word_ids != b->word_ids ||
      a->type_ids != b->type_ids || a->attention_mask != b->attention_mask ||
      a->special_tokens_mask != b->special_tokens_mask || a->sequence_ids != b->sequence_ids)
    __builtin_trap();
  return 0;
}
