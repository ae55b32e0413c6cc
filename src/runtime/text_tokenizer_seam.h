#pragma once
// The one place the vision/speech pipelines touch text tokenization. It wraps
// accel::Tokenizer (src/tokenizers/, branch feat-tok) when that is in the tree and reports
// Unsupported otherwise, so CLIP text / Whisper decoding build and degrade cleanly either way.
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel {

struct TextTokens {
  std::vector<int64_t> ids, attention_mask;
};

struct TextTokenizer {
  std::function<Result<TextTokens>(const std::string&)> encode;
  std::function<Result<std::string>(const std::vector<int64_t>&)> decode;  // skips special tokens
};

// Loads the tokenizer in a model folder (tokenizer.json or tokenizer.model).
Result<TextTokenizer> LoadTextTokenizer(const std::string& model_dir);

}  // namespace accel
