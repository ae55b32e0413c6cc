#pragma once
// The stages of a Hugging Face tokenizer.json pipeline as interfaces: text is split on added
// tokens, normalized, pre-tokenized into pieces, each piece is tokenized by the model, then the
// post-processor adds special tokens; decoding runs the decoder over token strings. Every stage
// is built from its JSON object by a Parse* factory (one file per stage family).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizers/encoding.h"
#include "tokenizers/normalized_string.h"

namespace accel::tok {

using json = nlohmann::json;

// Model output for one pre-token: offsets are bytes within that pre-token's normalized text.
struct Token {
  int64_t id;
  std::string value;
  Span offsets;
};

struct PreTokenizedString {
  struct Piece {
    NormalizedString normalized;
    std::optional<std::vector<Token>> tokens;  // set for added tokens and after the model ran
  };
  std::vector<Piece> pieces;

  // Replaces every not-yet-tokenized piece by the pieces `fn` produces (empty ones dropped).
  template <typename Fn>
  Status SplitEach(Fn&& fn) {
    std::vector<Piece> out;
    out.reserve(pieces.size());
    std::vector<NormalizedString> produced;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i].tokens) {
        out.push_back(std::move(pieces[i]));
        continue;
      }
      produced.clear();
      ACCEL_RETURN_IF_ERROR(fn(i, std::move(pieces[i].normalized), produced));
      for (auto& n : produced)
        if (!n.empty()) out.push_back({std::move(n), std::nullopt});
    }
    pieces = std::move(out);
    return Status::Ok();
  }
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual Status Normalize(NormalizedString& s) const = 0;
};

// What a pre-tokenizer does when all it does is cut each piece into words (by a regex, or not
// at all) and map every byte of a word to its ByteToChar() character: ByteLevel, or a Split
// followed by a ByteLevel without its own regex. HfBackend then tokenizes words straight from
// the text (byte_level_words.h), with the same result as PreTokenize.
struct ByteLevelWords {
  const Regex* split = nullptr;  // null: each piece is one word
  bool keep_matches = true, keep_gaps = true;
};

// A pre-tokenizer that only cuts pieces into words, never changing their text, can say where
// the words of a piece are; HfBackend then runs the model on each in place (split_words.h).
class WordSplitter {
 public:
  virtual ~WordSplitter() = default;
  // Appends the non-empty words of `text` as byte ranges, in order: the pieces PreTokenize
  // would make of a piece holding `text`.
  virtual Status SplitWords(std::string_view text, std::vector<Span>& out) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual Status PreTokenize(PreTokenizedString& s) const = 0;
  virtual std::optional<ByteLevelWords> AsByteLevelWords() const { return std::nullopt; }
  virtual const WordSplitter* AsWordSplitter() const { return nullptr; }
};

// One token of a word as a WordModel reports it: id and length in bytes of the word.
struct WordToken {
  int64_t id;
  uint32_t len;
};

// The allocation-free form of Model::Tokenize, for models whose tokens are always vocabulary
// entries (BPE): ids and lengths only, strings looked up when the encoding is built.
class WordModel {
 public:
  virtual ~WordModel() = default;
  // Sets *out to the tokens of `word`: a view into this thread's word cache or scratch buffer,
  // valid until this thread's next call. Token lengths add up as Tokenize's offsets do.
  virtual Status TokenizeWord(std::string_view word, std::span<const WordToken>* out) const = 0;
  // Token strings by id; every id TokenizeWord gives is an index into it.
  virtual const std::vector<std::string>& TokenStrings() const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual Status Tokenize(std::string_view sequence, std::vector<Token>& out) const = 0;
  virtual std::optional<int64_t> TokenToId(std::string_view token) const = 0;
  virtual std::optional<std::string> IdToToken(int64_t id) const = 0;
  virtual size_t VocabSize() const = 0;
  virtual const WordModel* AsWordModel() const { return nullptr; }
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual size_t AddedTokens(bool is_pair) const = 0;
  // Receives one encoding per sequence (sequence ids and type ids already set by the caller)
  // and may add special tokens; the caller merges the results.
  virtual Status ProcessEncodings(std::vector<Encoding>& encodings, bool add_special_tokens) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Status DecodeChain(std::vector<std::string>& tokens) const = 0;
};

// Thrown only inside the JSON factories and turned into a Status at the Load boundary.
struct JsonError {
  std::string message;
};
[[noreturn]] void ThrowJson(const std::string& message);
const json& Field(const json& j, const char* key);  // required
std::string GetString(const json& j, const char* key, const std::string& def);
bool GetBool(const json& j, const char* key, bool def);
int64_t GetInt(const json& j, const char* key, int64_t def);
std::string TypeOf(const json& j, const char* what);
// {"String": s} or {"Regex": r} -> compiled regex.
std::shared_ptr<const Regex> ParsePattern(const json& j);

std::unique_ptr<Normalizer> ParseNormalizer(const json& j);
std::unique_ptr<PreTokenizer> ParsePreTokenizer(const json& j);
std::unique_ptr<Model> ParseModel(const json& j);
std::unique_ptr<PostProcessor> ParsePostProcessor(const json& j);
std::unique_ptr<Decoder> ParseDecoder(const json& j);

// The GPT-2 byte <-> printable char table used by ByteLevel.
const char32_t* ByteToChar();
int CharToByte(char32_t c);  // -1 if c is not in the table
// Trims leading/trailing spaces ('Ġ' or whitespace) from offsets (ByteLevel/Roberta trim).
void TrimOffsets(Encoding& e, bool add_prefix_space);

}  // namespace accel::tok
