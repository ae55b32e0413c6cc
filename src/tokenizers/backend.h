#pragma once
// What Tokenizer needs from an implementation: the HF tokenizer.json pipeline or
// SentencePiece. Encodings produced here carry code point offsets.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizers/encoding.h"

namespace accel::tok {

class Backend {
 public:
  virtual ~Backend() = default;
  // One sequence before post-processing (no special tokens added yet).
  virtual Result<Encoding> EncodeSequence(std::string_view text, int64_t type_id) const = 0;
  // Adds special tokens to 1 or 2 encodings and merges them into one.
  virtual Result<Encoding> PostProcess(std::vector<Encoding> encodings, bool add_special_tokens) const = 0;
  virtual size_t AddedTokens(bool is_pair) const = 0;
  virtual Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const = 0;
  virtual std::optional<int64_t> TokenToId(std::string_view token) const = 0;
  virtual std::optional<std::string> IdToToken(int64_t id) const = 0;
  virtual size_t VocabSize(bool with_added) const = 0;
  virtual bool is_sentencepiece() const { return false; }
  // Whether EncodeSequence takes the byte-level fast path (byte_level_words.h) or the
  // split-words path (split_words.h).
  virtual bool fast_byte_level() const { return false; }
  virtual bool fast_split_words() const { return false; }
};

struct TokenizerJsonExtras;  // truncation / padding read from tokenizer.json

// Parses tokenizer.json text. Truncation and padding found there are returned through the
// optional out-parameters as raw JSON strings handled by tokenizer.cpp. Without `fast_paths`
// every text takes the general pipeline (the reference the fast paths are tested against).
Result<std::unique_ptr<Backend>> ParseHfTokenizer(std::string_view json_text, std::string* truncation_json,
                                                  std::string* padding_json, bool fast_paths = true);
// Loads a SentencePiece model; `config_json` is tokenizer_config.json content or empty.
Result<std::unique_ptr<Backend>> LoadSentencePiece(const std::string& model_path, const std::string& config_json);

}  // namespace accel::tok
