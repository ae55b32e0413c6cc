#pragma once
// A piece of text being normalized, with the alignment of every normalized byte to a span of
// the original text. This mirrors Hugging Face `tokenizers`' NormalizedString closely because
// its alignment rules (what an inserted or removed character maps to) define the offsets the
// reference library reports; the comments name the HF behaviour where it is surprising.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace accel::tok {

using Span = std::pair<size_t, size_t>;

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// One piece of a pattern search: a byte range of the searched text and whether it matched.
struct PatternPiece {
  size_t start, end;
  bool is_match;
};

// Matches of a regex, with the gaps between them as non-matches (HF Pattern::find_matches).
Status FindMatches(const Regex& re, std::string_view text, std::vector<PatternPiece>& out);
// Every char for which pred is true is one match.
void FindMatches(const std::function<bool(char32_t)>& pred, std::string_view text, std::vector<PatternPiece>& out);
void InvertMatches(std::vector<PatternPiece>& pieces);
// The byte ranges `behavior` keeps of pattern pieces (HF NormalizedString::split), in order;
// empty ranges included.
void SplitRanges(const std::vector<PatternPiece>& pieces, SplitBehavior behavior, std::vector<Span>& out);

class NormalizedString {
 public:
  NormalizedString() = default;
  explicit NormalizedString(std::string_view original);

  const std::string& get() const { return normalized_; }
  size_t len() const { return normalized_.size(); }
  bool empty() const { return normalized_.empty(); }
  size_t original_len() const { return original_len_; }
  // Span of this piece in the full original text (bytes).
  Span OffsetsOriginal() const { return {original_shift_, original_shift_ + original_len_}; }
  size_t original_shift() const { return original_shift_; }

  // Normalized byte range -> original byte range relative to this piece (HF convert_offsets).
  std::optional<Span> NormalizedToOriginal(size_t start, size_t end) const;
  // Original byte range (relative to this piece) -> normalized byte range.
  std::optional<Span> OriginalToNormalized(size_t start, size_t end) const;

  // The sub-string of the normalized bytes [start, end) with its alignments.
  NormalizedString Slice(size_t start, size_t end) const;

  // Replaces normalized bytes [start, end) by `dest` (HF transform_range); `initial_offset`
  // input chars at the start of the range are removed before the first output char.
  void TransformRange(size_t start, size_t end, const std::vector<CharChange>& dest, size_t initial_offset);
  void Transform(const std::vector<CharChange>& dest, size_t initial_offset);

  void Filter(const std::function<bool(char32_t)>& keep);
  void Map(const std::function<char32_t(char32_t)>& fn);
  void Lowercase();
  void Uppercase();
  void Normalize(NormalForm form);
  void Prepend(std::string_view s);
  void Append(std::string_view s);
  void Strip(bool left, bool right);
  Status Replace(const Regex& pattern, std::string_view content);

  // Splits by precomputed pattern pieces according to `behavior` (HF NormalizedString::split).
  std::vector<NormalizedString> Split(const std::vector<PatternPiece>& pieces, SplitBehavior behavior) const;

 private:
  // Whether Transform would act on all of the text (its original span maps to all of it).
  bool CoversAll() const;

  std::string normalized_;
  std::vector<std::pair<uint32_t, uint32_t>> align_;  // per normalized byte
  size_t original_shift_ = 0;
  size_t original_len_ = 0;
};

}  // namespace accel::tok
