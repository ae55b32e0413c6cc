#pragma once
// The byte-level fast path of HfBackend::EncodeSequence. For a tokenizer.json without a
// normalizer, whose pre-tokenizer only cuts words and maps their bytes (ByteLevelWords: GPT-2,
// RoBERTa, Whisper, Llama-3 and most byte-level BPE files) and whose model is a WordModel
// (BPE), words are cut straight from the text and mapped into one reused buffer: no
// NormalizedString, piece vector or string per word. Offsets follow from the text itself,
// because every mapped character stands for exactly one byte of it.
#include <string_view>

#include "core/status.h"
#include "tokenizers/added_vocabulary.h"
#include "tokenizers/encoding.h"
#include "tokenizers/pipeline.h"

namespace accel::tok {

// Fills `out` (no special tokens; type ids = type_id) exactly as the general pipeline would and
// returns true, or returns false where it cannot reproduce it: a word whose token lengths add
// up to more than the word (byte fallback applied to a subword prefix). The caller then runs
// the general pipeline.
Result<bool> EncodeByteLevelWords(std::string_view text, int64_t type_id, const AddedVocabulary& added,
                                  const ByteLevelWords& words, const WordModel& model, Encoding& out);

}  // namespace accel::tok
