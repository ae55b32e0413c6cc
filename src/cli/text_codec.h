#pragma once
// The seam between `accel generate` and the tokenizer library (src/tokenizers, developed on
// its own branch). When tokenizers/tokenizer.h is in the tree, text_codec.cpp wraps
// accel::Tokenizer; without it, LoadTextCodec says so and prompts must be given as ids.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel::cli {

class TextCodec {
 public:
  virtual ~TextCodec() = default;
  virtual Result<std::vector<int64_t>> Encode(const std::string& text, bool add_special_tokens) const = 0;
  virtual Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const = 0;
};

// The tokenizer of a model folder (tokenizer.json / tokenizer.model).
Result<std::unique_ptr<TextCodec>> LoadTextCodec(const std::string& model_dir);

}  // namespace accel::cli
