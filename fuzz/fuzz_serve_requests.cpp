// The request parsers of `accel serve` (src/serve/requests.cpp): every OpenAI, Ollama, TEI and TGI
// body parser, on arbitrary bytes, returns a value or a ParseError and never crashes or throws.
#include <cstdint>
#include <string>

#include "serve/requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  using namespace accel::serve;
  auto chat = ParseOpenAiChat(body);
  if (chat.ok()) {
    for (const auto& m : chat.value.messages) (void)m.content.size();
  } else if (chat.error->message.empty()) {
    __builtin_trap();  // every error says why
  }
  auto completion = ParseOpenAiCompletion(body);
  if (completion.ok() && completion.value.prompt_is_ids && completion.value.prompt_ids.empty()) __builtin_trap();
  auto emb = ParseOpenAiEmbedding(body);
  if (emb.ok()) {
    if (emb.value.texts.empty() && emb.value.token_ids.empty()) __builtin_trap();
    for (const auto& ids : emb.value.token_ids)
      for (int64_t t : ids)
        if (t < 0) __builtin_trap();
  }
  (void)ParseOllamaChat(body);
  (void)ParseOllamaGenerate(body);
  (void)ParseOllamaEmbed(body);
  (void)ParseTeiEmbed(body);
  auto tgi = ParseTgiGenerate(body);
  if (tgi.ok() && (tgi.value.prompt.empty() || tgi.value.max_tokens < 1)) __builtin_trap();
  std::vector<float> floats(size / 4);
  for (size_t i = 0; i < floats.size(); ++i) __builtin_memcpy(&floats[i], data + 4 * i, 4);
  (void)Base64Floats(floats);
  return 0;
}
