#pragma once
// Tokens added on top of the model vocabulary (tokenizer.json "added_tokens"): they are found
// in the raw text before normalization (or in the normalized text for `normalized: true`),
// leftmost-longest, and never split by the pre-tokenizer or the model.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizers/byte_trie.h"
#include "tokenizers/pipeline.h"
#include "tokenizers/vocab.h"

namespace accel::tok {

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

// Leftmost-longest multi-pattern matcher over bytes (a trie walked from each position).
class TokenMatcher {
 public:
  void Add(const std::string& pattern, int64_t id);
  bool empty() const { return trie_.empty(); }
  // Longest pattern starting exactly at `pos`: returns its length (0 = none) and id.
  size_t LongestAt(std::string_view text, size_t pos, int64_t* id) const;
  bool CanStartWith(unsigned char c) const { return first_[c]; }
  // First position >= pos where a pattern may start (text.size() if none).
  size_t NextCandidate(std::string_view text, size_t pos) const;

 private:
  ByteTrie trie_;
  bool first_[256] = {};
  int first_count_ = 0;        // distinct first bytes
  unsigned char only_first_ = 0;  // the first byte when there is just one (often '<')
};

class AddedVocabulary {
 public:
  // `normalizer` may be null; it normalizes `normalized: true` tokens for matching.
  Status Build(std::vector<AddedToken> tokens, const Normalizer* normalizer);
  Status ExtractAndNormalize(const Normalizer* normalizer, std::string_view text, PreTokenizedString& out) const;

  // A byte range of a text and the added token found there (id -1: text between tokens).
  struct Segment {
    size_t start, stop;
    int64_t id;
  };
  // What ExtractAndNormalize finds when there is no normalizer, as byte ranges of `text`:
  // the added tokens and the non-empty text between them, in order.
  void SplitUnnormalized(std::string_view text, std::vector<Segment>& out) const;

  std::optional<int64_t> TokenToId(std::string_view t) const;
  const AddedToken* ById(int64_t id) const;
  // Token string for decoding (normalized form for normalized tokens, as HF does).
  const std::string* DecodeString(int64_t id) const;
  bool IsSpecial(const std::string& content) const { return special_.count(content) > 0; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // Leftmost-longest matches of `m` (with single_word / lstrip / rstrip applied) and the text
  // between them, covering `text`.
  void FindSegments(std::string_view text, const TokenMatcher& m, std::vector<Segment>& out) const;
  void Split(NormalizedString&& s, const TokenMatcher& m, std::vector<PreTokenizedString::Piece>& out) const;
  std::vector<AddedToken> tokens_;
  std::unordered_map<int64_t, size_t> by_id_;
  TokenMap by_content_;
  std::unordered_map<int64_t, std::string> normalized_cache_;
  std::unordered_set<std::string> special_;
  TokenMatcher raw_, normalized_;
};

}  // namespace accel::tok
