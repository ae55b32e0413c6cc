#include "tokenizers/added_vocabulary.h"

#include <cctype>
#include <cstring>

#include <utf8proc.h>

namespace accel::tok {

void TokenMatcher::Add(const std::string& pattern, int64_t id) {
  if (pattern.empty()) return;
  trie_.Insert(pattern, id);
  const auto first = static_cast<unsigned char>(pattern[0]);
  if (!first_[first]) {
    first_[first] = true;
    ++first_count_;
    only_first_ = first;
  }
}

size_t TokenMatcher::NextCandidate(std::string_view text, size_t pos) const {
  if (pos >= text.size()) return text.size();
  if (first_count_ == 1) {
    const void* hit = std::memchr(text.data() + pos, only_first_, text.size() - pos);
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - text.data()) : text.size();
  }
  while (pos < text.size() && !first_[static_cast<unsigned char>(text[pos])]) ++pos;
  return pos;
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

void AddedVocabulary::FindSegments(std::string_view text, const TokenMatcher& m, std::vector<Segment>& out) const {
  if (m.empty() || text.empty()) {
    out.push_back({0, text.size(), -1});
    return;
  }
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    pos = m.NextCandidate(text, pos);
    if (pos >= text.size()) break;
    int64_t id = -1;
    size_t len = m.LongestAt(text, pos, &id);
    if (len == 0) { ++pos; continue; }
    size_t start = pos, stop = pos + len;
    const AddedToken* tok = ById(id);
    if (tok && tok->single_word) {
      bool start_space = start == 0 || !IsWordChar(LastChar(text.substr(0, start)));
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
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, id});
    start_offset = stop;
    pos = stop;
  }
  if (start_offset != text.size()) out.push_back({start_offset, text.size(), -1});
}

void AddedVocabulary::Split(NormalizedString&& s, const TokenMatcher& m, std::vector<PreTokenizedString::Piece>& out) const {
  if (m.empty() || s.empty()) {
    out.push_back({std::move(s), std::nullopt});
    return;
  }
  std::vector<Segment> segments;
  FindSegments(s.get(), m, segments);
  for (const Segment& g : segments) {
    NormalizedString piece = s.Slice(g.start, g.stop);
    if (g.id >= 0) {
      std::vector<Token> toks{{g.id, piece.get(), {0, piece.len()}}};
      out.push_back({std::move(piece), std::move(toks)});
    } else {
      out.push_back({std::move(piece), std::nullopt});
    }
  }
}

void AddedVocabulary::SplitUnnormalized(std::string_view text, std::vector<Segment>& out) const {
  thread_local std::vector<Segment> first, second;
  first.clear();
  FindSegments(text, raw_, first);
  for (const Segment& f : first) {
    if (f.id >= 0) {
      out.push_back(f);
      continue;
    }
    if (f.start == f.stop) continue;
    second.clear();
    FindSegments(text.substr(f.start, f.stop - f.start), normalized_, second);
    for (const Segment& g : second)
      if (g.start != g.stop) out.push_back({f.start + g.start, f.start + g.stop, g.id});
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
