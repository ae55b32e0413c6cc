// The GPT-2 / Llama-3 split scanners give exactly PCRE2's matches on any valid UTF-8: the first
// byte picks the pattern, the rest is the text (invalid UTF-8 is skipped, as the tokenizer
// rejects it before any split).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace {
struct Pair {
  std::shared_ptr<const accel::tok::Regex> fast, reference;
};
const Pair& Engines(int which) {
  static const Pair* pairs = [] {
    auto* p = new Pair[2];
    const std::string_view patterns[2] = {accel::tok::kGpt2SplitPattern, accel::tok::kLlama3SplitPattern};
    for (int i = 0; i < 2; ++i) {
      auto fast = accel::tok::Regex::Compile(std::string(patterns[i]));
      auto ref = accel::tok::Regex::Compile(std::string(patterns[i]), accel::tok::Regex::Engine::kPcre2);
      if (!fast.ok() || !ref.ok() || fast.value()->scanner() == accel::tok::SplitScanner::kNone) __builtin_trap();
      p[i] = {fast.value(), ref.value()};
    }
    return p;
  }();
  return pairs[which];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (accel::tok::FindInvalidUtf8(text) != std::string_view::npos) return 0;
  const Pair& e = Engines(data[0] & 1);
  std::vector<std::pair<size_t, size_t>> a, b;
  if (!e.fast->FindAll(text, a).ok() || !e.reference->FindAll(text, b).ok()) __builtin_trap();
  if (a != b) {
    std::fprintf(stderr, "scanner and PCRE2 differ (%s pattern): %zu vs %zu matches\n", data[0] & 1 ? "llama3" : "gpt2",
                 a.size(), b.size());
    __builtin_trap();
  }
  return 0;
}
