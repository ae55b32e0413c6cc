#pragma once
// PCRE2 (UTF + Unicode properties, JIT) behind the small interface the pipeline needs:
// all non-overlapping matches of a pattern, left to right, like Oniguruma's find_iter that
// Hugging Face `tokenizers` uses (\p{L}, \p{N}, (?i:...), look-arounds all supported).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizers/split_scanner.h"

namespace accel::tok {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // kAuto runs a hand-written scanner (split_scanner.h) when the pattern is exactly one it has;
  // kPcre2 always runs PCRE2 (the reference the scanners are tested against).
  enum class Engine { kAuto, kPcre2 };
  static Result<std::shared_ptr<const Regex>> Compile(const std::string& pattern, Engine engine = Engine::kAuto);
  // A pattern that matches `literal` exactly (for the {"String": ...} form).
  static Result<std::shared_ptr<const Regex>> Literal(const std::string& literal);

  // Appends [start, end) byte ranges of every match in `text` (valid UTF-8).
  Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  const std::string& pattern() const { return pattern_; }
  SplitScanner scanner() const { return scanner_; }
  // Whether PCRE2 compiled this pattern to machine code (used whenever no scanner is).
  bool jit() const { return jit_; }

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
  SplitScanner scanner_ = SplitScanner::kNone;
  bool jit_ = false;
};

}  // namespace accel::tok
