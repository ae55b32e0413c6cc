#include "tokenizers/split_words.h"

#include "tokenizers/char_offsets.h"

namespace accel::tok {

Result<bool> EncodeSplitWords(std::string_view text, int64_t type_id, const PreTokenizedString& pts,
                              const WordSplitter& splitter, const Model& model, Encoding& out) {
  thread_local std::vector<Span> words;
  thread_local std::vector<Token> toks;
  const WordModel* word_model = model.AsWordModel();
  const CharOffsets convert(text);
  const size_t guess = text.size() / 4 + 4;
  out.ids.reserve(guess);
  out.tokens.reserve(guess);
  out.offsets.reserve(guess);
  out.word_ids.reserve(guess);
  int64_t word_index = 0;

  for (const auto& p : pts.pieces) {
    const NormalizedString& n = p.normalized;
    const size_t shift = n.original_shift();
    if (p.tokens) {  // an added token: as the general pipeline emits it
      for (const Token& t : *p.tokens) {
        Span off = t.offsets;
        if (auto r = n.NormalizedToOriginal(t.offsets.first, t.offsets.second)) off = {shift + r->first, shift + r->second};
        out.ids.push_back(t.id);
        out.tokens.push_back(t.value);
        out.offsets.push_back(convert(off));
        out.word_ids.push_back(word_index);
      }
      ++word_index;
      continue;
    }
    words.clear();
    ACCEL_RETURN_IF_ERROR(splitter.SplitWords(n.get(), words));
    for (const Span& w : words) {
      const size_t start = w.first, stop = w.second;
      const std::string_view word = std::string_view(n.get()).substr(start, stop - start);
      // A token [a, b) of the word is [start + a, start + b) of the piece; the general pipeline
      // maps it through the word's own slice, which agrees unless the token is empty (HF then
      // keeps the offsets as they are) or reaches past the word.
      auto emit = [&](int64_t id, const std::string& value, size_t a, size_t b) {
        if (a == b || b > word.size()) return false;
        auto r = n.NormalizedToOriginal(start + a, start + b);
        if (!r) return false;
        out.ids.push_back(id);
        out.tokens.push_back(value);
        out.offsets.push_back(convert({shift + r->first, shift + r->second}));
        out.word_ids.push_back(word_index);
        return true;
      };
      if (word_model) {
        std::span<const WordToken> wt;
        ACCEL_RETURN_IF_ERROR(word_model->TokenizeWord(word, &wt));
        const std::vector<std::string>& strings = word_model->TokenStrings();
        size_t a = 0;
        for (const WordToken& t : wt) {
          if (!emit(t.id, strings[t.id], a, a + t.len)) return false;
          a += t.len;
        }
      } else {
        toks.clear();
        ACCEL_RETURN_IF_ERROR(model.Tokenize(word, toks));
        for (const Token& t : toks)
          if (!emit(t.id, t.value, t.offsets.first, t.offsets.second)) return false;
      }
      ++word_index;
    }
  }
  const size_t n = out.ids.size();
  out.type_ids.assign(n, type_id);
  out.attention_mask.assign(n, 1);
  out.special_tokens_mask.assign(n, 0);
  out.sequence_ids.assign(n, 0);
  return true;
}

}  // namespace accel::tok
