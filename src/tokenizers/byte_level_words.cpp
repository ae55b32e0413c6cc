#include "tokenizers/byte_level_words.h"

#include <array>
#include <cstring>

namespace accel::tok {
namespace {

// ByteToChar() as UTF-8: every byte becomes one character of one or two bytes (the table's
// characters are all below U+0800), stored as two bytes so a word maps with one store per byte.
struct ByteMap {
  std::array<std::array<char, 2>, 256> utf8{};
  std::array<uint8_t, 256> len{};
  ByteMap() {
    const char32_t* table = ByteToChar();
    for (int b = 0; b < 256; ++b) {
      std::string s;
      AppendUtf8(s, table[b]);
      len[b] = static_cast<uint8_t>(s.size());
      for (size_t k = 0; k < s.size() && k < 2; ++k) utf8[b][k] = s[k];
    }
  }
};

const ByteMap& Bytes() {
  static const ByteMap map;
  return map;
}

bool IsCharStart(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

// Code point counting over the text, left to right: how many characters start before a byte.
class CharCount {
 public:
  explicit CharCount(std::string_view text) : text_(text) {}
  // Moves to byte b (b >= the current position) and returns the characters starting before it.
  size_t At(size_t b) {
    for (; pos_ < b; ++pos_) starts_ += IsCharStart(text_[pos_]);
    return starts_;
  }
  // The caller counted up to b itself.
  void Set(size_t b, size_t starts) {
    pos_ = b;
    starts_ = starts;
  }
  // Index of the character containing byte b (b >= the current position).
  size_t Of(size_t b) { return At(b + 1) - 1; }

 private:
  std::string_view text_;
  size_t pos_ = 0, starts_ = 0;
};

}  // namespace

Result<bool> EncodeByteLevelWords(std::string_view text, int64_t type_id, const AddedVocabulary& added,
                                  const ByteLevelWords& words, const WordModel& model, Encoding& out) {
  // Tokens are gathered here first so that the encoding's vectors are allocated once, exactly.
  struct Pending {
    int64_t id;
    size_t start, end;       // code points
    int64_t word;
    size_t added_at;         // added tokens: where their text starts (their string is that text)
    size_t added_len;        // 0 = a model token (its string is the vocabulary's)
  };
  thread_local std::vector<AddedVocabulary::Segment> segments;
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  thread_local std::vector<char> mapped;
  thread_local std::vector<Pending> pending;
  const ByteMap& bytes = Bytes();
  segments.clear();
  pending.clear();
  added.SplitUnnormalized(text, segments);
  CharCount chars(text);
  int64_t word_index = 0;
  bool exact = true;

  // One word = one piece of the general pipeline: its tokens' offsets there are the spans of
  // the characters holding the first and last byte each token covers.
  auto word = [&](size_t start, size_t stop) -> Status {
    if (start == stop || !exact) return Status::Ok();
    if (mapped.size() < 2 * (stop - start)) mapped.resize(2 * (stop - start));
    char* w = mapped.data();
    for (size_t i = start; i < stop; ++i) {
      const auto b = static_cast<unsigned char>(text[i]);
      std::memcpy(w, bytes.utf8[b].data(), 2);
      w += bytes.len[b];
    }
    const size_t mapped_len = static_cast<size_t>(w - mapped.data());
    std::span<const WordToken> toks;
    ACCEL_RETURN_IF_ERROR(model.TokenizeWord(std::string_view(mapped.data(), mapped_len), &toks));
    // `raw` is the next byte of the word not yet covered, `raw_mapped` where its character
    // starts in the mapped word and `starts` the text's characters starting before `raw`. A
    // token may end inside a mapped character (byte fallback); the next one then starts in
    // that same character, raw - 1.
    size_t raw = start, raw_mapped = 0, m = 0, starts = chars.At(start);
    for (const WordToken& t : toks) {
      if (t.len == 0 || m + t.len > mapped_len) {
        exact = false;
        return Status::Ok();
      }
      // Character of the token's first byte: of raw - 1 if it is inside that one's mapping.
      const size_t first_char = raw_mapped > m ? starts - 1 : starts + IsCharStart(text[raw]) - 1;
      m += t.len;
      while (raw_mapped < m) {
        const char c = text[raw++];
        raw_mapped += bytes.len[static_cast<unsigned char>(c)];
        starts += IsCharStart(c);
      }
      pending.push_back({t.id, first_char, starts, word_index, 0, 0});
    }
    chars.Set(raw, starts);
    ++word_index;
    return Status::Ok();
  };

  for (const AddedVocabulary::Segment& seg : segments) {
    if (seg.id >= 0) {
      const size_t s = chars.Of(seg.start);
      pending.push_back({seg.id, s, chars.Of(seg.stop - 1) + 1, word_index++, seg.start, seg.stop - seg.start});
      continue;
    }
    if (!words.split) {
      ACCEL_RETURN_IF_ERROR(word(seg.start, seg.stop));
      continue;
    }
    std::string_view piece = text.substr(seg.start, seg.stop - seg.start);
    matches.clear();
    ACCEL_RETURN_IF_ERROR(words.split->FindAll(piece, matches));
    size_t prev = 0;
    for (auto [s, e] : matches) {
      if (words.keep_gaps) ACCEL_RETURN_IF_ERROR(word(seg.start + prev, seg.start + s));
      if (words.keep_matches) ACCEL_RETURN_IF_ERROR(word(seg.start + s, seg.start + e));
      prev = e;
    }
    if (words.keep_gaps) ACCEL_RETURN_IF_ERROR(word(seg.start + prev, seg.stop));
  }
  if (!exact) return false;

  const std::vector<std::string>& strings = model.TokenStrings();
  const size_t n = pending.size();
  out.ids.reserve(n);
  out.offsets.reserve(n);
  out.word_ids.reserve(n);
  out.tokens.reserve(n);
  for (const Pending& p : pending) {
    out.ids.push_back(p.id);
    out.offsets.emplace_back(p.start, p.end);
    out.word_ids.push_back(p.word);
    if (p.added_len) out.tokens.emplace_back(text.substr(p.added_at, p.added_len));
    else out.tokens.push_back(strings[p.id]);
  }
  out.type_ids.assign(n, type_id);
  out.attention_mask.assign(n, 1);
  out.special_tokens_mask.assign(n, 0);
  out.sequence_ids.assign(n, 0);
  // Per-thread buffers stay for the next text, unless one huge text made them huge.
  if (pending.capacity() > (1u << 16)) std::vector<Pending>().swap(pending);
  if (mapped.capacity() > (1u << 20)) std::vector<char>().swap(mapped);
  return true;
}

}  // namespace accel::tok
