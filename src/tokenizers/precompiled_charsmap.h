#pragma once
// SentencePiece's compiled normalization rules (the `precompiled_charsmap` of a .model file,
// stored base64 in tokenizer.json): a darts-clone double-array trie over UTF-8 keys whose
// values index a blob of NUL-terminated replacement strings. Read-only, bounds-checked.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace accel::tok {

class PrecompiledCharsmap {
 public:
  static Result<PrecompiledCharsmap> FromBase64(const std::string& b64);
  static Result<PrecompiledCharsmap> FromBytes(std::string_view bytes);
  // The replacement for the shortest trie key that prefixes `chunk` (HF spm_precompiled
  // semantics: the first common-prefix result, not necessarily covering all of `chunk`).
  std::optional<std::string_view> Transform(std::string_view chunk) const;

 private:
  std::vector<uint32_t> units_;
  std::string normalized_;
};

Result<std::string> DecodeBase64(const std::string& in);

}  // namespace accel::tok
