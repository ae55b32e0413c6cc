#pragma once
// The word path of HfBackend::EncodeSequence, for pre-tokenizers that only split (BERT's,
// Whitespace, WhitespaceSplit, Punctuation, Digits, Split...): after added tokens and the
// normalizer, the words of each piece are byte ranges of its normalized text (WordSplitter),
// tokenized in place and mapped back through the piece's alignments. No NormalizedString is
// made per word.
#include <string_view>

#include "core/status.h"
#include "tokenizers/encoding.h"
#include "tokenizers/pipeline.h"

namespace accel::tok {

// Fills `out` (no special tokens; type ids = type_id) exactly as the general pipeline would
// from `pts` (added tokens extracted, pieces normalized) and returns true, or returns false
// where it cannot reproduce it (a token that is empty or reaches past its word); the caller
// then runs the general pipeline on `pts`, which this leaves as it was.
Result<bool> EncodeSplitWords(std::string_view text, int64_t type_id, const PreTokenizedString& pts,
                              const WordSplitter& splitter, const Model& model, Encoding& out);

}  // namespace accel::tok
