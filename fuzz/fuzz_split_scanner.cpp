// The GPT-2 / Llama-3 split scanners give exactly PCRE2's matches on any valid UTF-8: bit 0 of
// the first byte picks the pattern; with bit 1 set the rest are indices into characters the
// patterns treat specially (always valid UTF-8, dense in interesting cases), otherwise the
// rest is the text itself (invalid UTF-8 is skipped: the tokenizer rejects it before any split).
#include <cstdint>
#include <cstdio>
#include <iterator>
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

// Contraction letters and their case variants (U+017F folds to 's'), apostrophes, every kind of
// space and line break, letters/digits/marks of other scripts, Unicode 15 additions that
// PCRE2 10.42 does not know, unassigned and private-use code points.
constexpr char32_t kAlphabet[] = {
    'a', 's', 'S', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'V', 'm', 'M', 'l', 'L', 'd', 'D', 'x', '\'', '\'', ' ', ' ',
    '\t', '\n', '\r', '\v', '\f', '0', '5', '.', '!', '_', '-', '(', 0x17F, 0x212A, 0xA0, 0x85, 0x1680, 0x180E,
    0x2000, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF, 0xE9, 0x4E2D, 0x0661, 0x0966, 0x2163, 0xBD, 0x301,
    0x200D, 0x1F600, 0x11F02, 0x31350, 0xE000, 0x378, 0x10FFFF, 0xDF, 0x1E9E};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string built;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 2) {
    for (size_t i = 1; i < size; ++i) accel::tok::AppendUtf8(built, kAlphabet[data[i] % std::size(kAlphabet)]);
    text = built;
  }
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
