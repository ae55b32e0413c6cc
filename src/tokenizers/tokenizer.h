#pragma once
// Public tokenizer API: loads a Hugging Face tokenizer.json (with the whole normalizer /
// pre-tokenizer / model / post-processor / decoder pipeline) or a SentencePiece .model, and
// encodes text to ids, tokens and offsets identical to the reference libraries.
//
// Invalid UTF-8 input is rejected with kInvalidArgument (naming the byte offset) rather than
// repaired: offsets into a silently changed text would mislead every caller.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizers/encoding.h"

namespace accel {

struct TruncationParams {
  enum class Strategy { kLongestFirst, kOnlyFirst, kOnlySecond };
  enum class Direction { kRight, kLeft };
  size_t max_length = 512;
  size_t stride = 0;
  Strategy strategy = Strategy::kLongestFirst;
  Direction direction = Direction::kRight;
};

struct PaddingParams {
  enum class Direction { kRight, kLeft };
  std::optional<size_t> fixed_length;  // nullopt = pad to the longest in the batch
  Direction direction = Direction::kRight;
  size_t pad_to_multiple_of = 0;
  int64_t pad_id = 0;
  int64_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

namespace tok {
class Backend;
}

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // `path`: a directory holding tokenizer.json (preferred) or tokenizer.model, or a path to
  // either file. tokenizer_config.json beside a .model decides BOS/EOS (add_bos_token /
  // add_eos_token, T5 appends </s>).
  static Result<std::unique_ptr<Tokenizer>> Load(const std::string& path);
  // Parses tokenizer.json content directly.
  static Result<std::unique_ptr<Tokenizer>> FromJson(std::string_view json_text);

  Result<Encoding> Encode(std::string_view text, bool add_special_tokens = true) const;
  Result<Encoding> EncodePair(std::string_view a, std::string_view b, bool add_special_tokens = true) const;
  // Encodes every text on accel::ThreadPool::Global(); padding (if set) applies to the batch.
  Result<std::vector<Encoding>> EncodeBatch(const std::vector<std::string>& texts, bool add_special_tokens = true) const;
  Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;

  std::optional<int64_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int64_t id) const;
  size_t VocabSize(bool with_added_tokens = true) const;
  bool is_sentencepiece() const;

  // Truncation / padding: initialised from tokenizer.json, overridable.
  const std::optional<TruncationParams>& truncation() const { return truncation_; }
  const std::optional<PaddingParams>& padding() const { return padding_; }
  void SetTruncation(std::optional<TruncationParams> t) { truncation_ = std::move(t); }
  void SetPadding(std::optional<PaddingParams> p) { padding_ = std::move(p); }

 private:
  Tokenizer();
  Result<Encoding> EncodeImpl(std::string_view a, const std::string_view* b, bool add_special_tokens) const;
  void Pad(std::vector<Encoding>& batch) const;

  std::unique_ptr<tok::Backend> backend_;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
};

}  // namespace accel
