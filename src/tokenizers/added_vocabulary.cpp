#include "tokenizers/added_vocabulary.h"

#include <cctype>

#include <utf8proc.h>

namespace accel::tok {

void TokenMatcher::Add(const std::string& pattern, int64_t id) {
  if (pattern.empty()) return;
  trie_.Insert(pattern, id);
  first_[static_cast<unsigned char>(pattern[0])] = true;
}

size_t TokenMatcher::LongestAt(std::string_view text, size_t pos, int64_t* id) const {
  size_t best = 0;
  trie_.CommonPrefixes(text, pos, [&](size_t len, int64_t found) {
    best = len;
    *id = found;
  });
  return best;
}

Status AddedVocabulary::Build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.content.empty()) continue;
    by_id_[t.id] = i;
    by_content_[t.content] = t.id;
    if (t.special) special_.insert(t.content);
    std::string pattern = t.content;
    if (t.normalized && normalizer) {
      NormalizedString s(t.content);
      ACCEL_RETURN_IF_ERROR(normalizer->Normalize(s));
      if (s.get() != t.content) normalized_cache_[t.id] = s.get();
      pattern = s.get();
    }
    if (t.normalized) normalized_.Add(pattern, t.id);
    else raw_.Add(pattern, t.id);
  }
  return Status::Ok();
}

std::optional<int64_t> AddedVocabulary::TokenToId(std::string_view t) const {
  auto it = by_content_.find(t);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedVocabulary::ById(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const std::string* AddedVocabulary::DecodeString(int64_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  if (auto n = normalized_cache_.find(id); n != normalized_cache_.end()) return &n->second;
  return &tokens_[it->second].content;
}

namespace {

// Rust regex \w: alphanumeric, marks, connector punctuation, join controls.
bool IsWordChar(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) || c == '_';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO) || cat == UTF8PROC_CATEGORY_PC || c == 0x200C ||
         c == 0x200D;
}

char32_t LastChar(std::string_view s) {
  size_t b = s.size() - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  int len;
  return DecodeUtf8(s, b, &len);
}

}  // namespace

void AddedVocabulary::Split(NormalizedString&& s, const TokenMatcher& m, std::vector<PreTokenizedString::Piece>& out) const {
  const std::string& text = s.get();
  if (m.empty() || text.empty()) {
    out.push_back({std::move(s), std::nullopt});
    return;
  }
  struct Hit { size_t start, stop; int64_t id; bool is_token; };
  std::vector<Hit> hits;
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!m.CanStartWith(static_cast<unsigned char>(text[pos]))) { ++pos; continue; }
    int64_t id = -1;
    size_t len = m.LongestAt(text, pos, &id);
    if (len == 0) { ++pos; continue; }
    size_t start = pos, stop = pos + len;
    const AddedToken* tok = ById(id);
    if (tok && tok->single_word) {
      bool start_space = start == 0 || !IsWordChar(LastChar(std::string_view(text).substr(0, start)));
      int l;
      bool stop_space = stop == text.size() || !IsWordChar(DecodeUtf8(text, stop, &l));
      if (!start_space || !stop_space) { pos = stop; continue; }
    }
    if (tok && tok->lstrip) {
      size_t ns = start;
      while (ns > 0) {
        size_t b = ns - 1;
        while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        int l;
        if (!IsWhitespace(DecodeUtf8(text, b, &l))) break;
        ns = b;
      }
      start = std::max(ns, start_offset);
    }
    if (tok && tok->rstrip) {
      while (stop < text.size()) {
        int l;
        if (!IsWhitespace(DecodeUtf8(text, stop, &l))) break;
        stop += l;
      }
    }
    if (start_offset < start) hits.push_back({start_offset, start, -1, false});
    hits.push_back({start, stop, id, true});
    start_offset = stop;
    pos = stop;
  }
  if (start_offset != text.size()) hits.push_back({start_offset, text.size(), -1, false});
  for (const Hit& h : hits) {
    NormalizedString piece = s.Slice(h.start, h.stop);
    if (h.is_token) {
      std::vector<Token> toks{{h.id, piece.get(), {0, piece.len()}}};
      out.push_back({std::move(piece), std::move(toks)});
    } else {
      out.push_back({std::move(piece), std::nullopt});
    }
  }
}

Status AddedVocabulary::ExtractAndNormalize(const Normalizer* normalizer, std::string_view text, PreTokenizedString& out) const {
  out.pieces.clear();
  std::vector<PreTokenizedString::Piece> first;
  Split(NormalizedString(text), raw_, first);
  for (auto& p : first) {
    if (p.tokens) {
      out.pieces.push_back(std::move(p));
      continue;
    }
    if (p.normalized.empty()) continue;
    if (normalizer) ACCEL_RETURN_IF_ERROR(normalizer->Normalize(p.normalized));
    std::vector<PreTokenizedString::Piece> second;
    Split(std::move(p.normalized), normalized_, second);
    for (auto& q : second)
      if (!q.normalized.empty()) out.pieces.push_back(std::move(q));
  }
  return Status::Ok();
}

}  // namespace accel::tok
