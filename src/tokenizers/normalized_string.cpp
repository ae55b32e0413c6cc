#include "tokenizers/normalized_string.h"

#include <algorithm>

namespace accel::tok {

Status FindMatches(const Regex& re, std::string_view text, std::vector<PatternPiece>& out) {
  if (text.empty()) {
    out.push_back({0, 0, false});
    return Status::Ok();
  }
  std::vector<std::pair<size_t, size_t>> m;
  ACCEL_RETURN_IF_ERROR(re.FindAll(text, m));
  size_t prev = 0;
  for (auto [s, e] : m) {
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  }
  if (prev != text.size()) out.push_back({prev, text.size(), false});
  return Status::Ok();
}

void FindMatches(const std::function<bool(char32_t)>& pred, std::string_view text, std::vector<PatternPiece>& out) {
  if (text.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t last = 0;
  for (size_t i = 0; i < text.size();) {
    int len;
    char32_t c = DecodeUtf8(text, i, &len);
    if (pred(c)) {
      if (last < i) out.push_back({last, i, false});
      out.push_back({i, i + len, true});
      last = i + len;
    }
    i += len;
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
}

void InvertMatches(std::vector<PatternPiece>& pieces) {
  for (auto& p : pieces) p.is_match = !p.is_match;
}

NormalizedString::NormalizedString(std::string_view original)
    : normalized_(original), original_len_(original.size()) {
  align_.resize(original.size());
  for (size_t i = 0; i < original.size();) {
    int len;
    DecodeUtf8(original, i, &len);
    for (int k = 0; k < len; ++k) align_[i + k] = {static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)};
    i += len;
  }
}

std::optional<Span> NormalizedString::NormalizedToOriginal(size_t start, size_t end) const {
  // HF quirk kept on purpose: an empty range is returned unchanged, in normalized coordinates.
  if (start == end) return Span{start, end};
  if (start > end || end > align_.size()) return std::nullopt;
  return Span{align_[start].first, align_[end - 1].second};
}

std::optional<Span> NormalizedString::OriginalToNormalized(size_t start, size_t end) const {
  if (start == end) return Span{start, end};
  if (start > end) return std::nullopt;
  if (original_len_ == 0 && start == 0 && end == 0) return Span{0, len()};
  std::optional<size_t> s, e;
  for (size_t i = 0; i < align_.size(); ++i) {
    const auto& a = align_[i];
    if (end < a.second) break;
    if (!s && start <= a.first && a.first != a.second) s = i;
    if (end >= a.second) e = i + 1;
  }
  if (s && e) return Span{*s, *e};
  if (s) return Span{*s, *s};
  if (e) return Span{*e, *e};
  return std::nullopt;
}

NormalizedString NormalizedString::Slice(size_t start, size_t end) const {
  NormalizedString out;
  auto orig = NormalizedToOriginal(start, end).value_or(Span{0, 0});
  size_t shift = orig.first;
  out.normalized_ = normalized_.substr(start, end - start);
  out.align_.reserve(end - start);
  for (size_t i = start; i < end; ++i)
    out.align_.push_back({static_cast<uint32_t>(align_[i].first - shift), static_cast<uint32_t>(align_[i].second - shift)});
  out.original_shift_ = original_shift_ + shift;
  out.original_len_ = orig.second >= orig.first ? orig.second - orig.first : 0;
  return out;
}

namespace {

size_t LeadLen(unsigned char b) { return b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4; }

// Writes c as UTF-8 at w; returns its length.
size_t PutUtf8(char32_t c, char* w) {
  if (c < 0x80) {
    w[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    w[0] = static_cast<char>(0xC0 | (c >> 6));
    w[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    w[0] = static_cast<char>(0xE0 | (c >> 12));
    w[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    w[2] = static_cast<char>(0x80 | (c & 0x3F));
    return 3;
  }
  w[0] = static_cast<char>(0xF0 | (c >> 18));
  w[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  w[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  w[3] = static_cast<char>(0x80 | (c & 0x3F));
  return 4;
}

}  // namespace

void NormalizedString::TransformRange(size_t start, size_t end, const std::vector<CharChange>& dest, size_t initial_offset) {
  // Input chars of [start, end) are consumed as the HF iterator does: one per replacing output
  // char, n more for a change of -n, none once the range is used up.
  size_t offset = start;
  auto consume = [&] {
    if (offset < end) offset += LeadLen(static_cast<unsigned char>(normalized_[offset]));
  };
  for (size_t k = 0; k < initial_offset && offset < end; ++k) consume();

  size_t total = 0;
  for (const CharChange& cc : dest) total += Utf8Len(cc.c);
  std::string out(total, '\0');
  std::vector<std::pair<uint32_t, uint32_t>> out_align(total);
  const std::pair<uint32_t, uint32_t> fallback{static_cast<uint32_t>(original_len_), static_cast<uint32_t>(original_len_)};
  size_t w = 0;
  for (const CharChange& cc : dest) {
    std::pair<uint32_t, uint32_t> a;
    if (cc.change > 0) {
      // An inserted char shares the alignment of the byte before it.
      a = offset < 1 ? std::pair<uint32_t, uint32_t>{0, 0} : (offset - 1 < align_.size() ? align_[offset - 1] : fallback);
    } else {
      a = offset < align_.size() ? align_[offset] : fallback;
    }
    if (cc.change <= 0) consume();
    for (int k = 0; k < -cc.change; ++k) consume();
    const size_t n = PutUtf8(cc.c, out.data() + w);
    for (size_t k = 0; k < n; ++k) out_align[w + k] = a;
    w += n;
  }
  if (start == 0 && end == normalized_.size()) {
    normalized_.swap(out);
    align_.swap(out_align);
    return;
  }
  normalized_.replace(start, end - start, out);
  align_.erase(align_.begin() + start, align_.begin() + end);
  align_.insert(align_.begin() + start, out_align.begin(), out_align.end());
}

void NormalizedString::Transform(const std::vector<CharChange>& dest, size_t initial_offset) {
  auto range = OriginalToNormalized(0, original_len_);
  if (!range) return;
  TransformRange(range->first, range->second, dest, initial_offset);
}

bool NormalizedString::CoversAll() const {
  auto range = OriginalToNormalized(0, original_len_);
  return range && range->first == 0 && range->second == normalized_.size();
}

namespace {

// Rewrites each char c of `text` as fn(c) when every char becomes exactly one char of the same
// UTF-8 length (fn(c, &r) returns false where c becomes several); returns false, with `text`
// untouched, otherwise. For a text whose transform would cover all of it, this is exactly what
// Transform does with those change-0 chars: all bytes of a char share one alignment, so the
// alignments stay as they are.
template <typename Fn>
bool RewriteSameShape(std::string& text, Fn fn) {
  std::string out(text);
  for (size_t i = 0; i < text.size();) {
    int len;
    const char32_t c = DecodeUtf8(text, i, &len);
    char32_t r;
    if (!fn(c, &r) || Utf8Len(r) != len) return false;
    if (r != c) PutUtf8(r, out.data() + i);
    i += len;
  }
  text.swap(out);
  return true;
}

}  // namespace

void NormalizedString::Filter(const std::function<bool(char32_t)>& keep) {
  // Usually every char is kept, and then Transform would change nothing.
  size_t first_removed = 0;
  while (first_removed < normalized_.size()) {
    int len;
    if (!keep(DecodeUtf8(normalized_, first_removed, &len))) break;
    first_removed += len;
  }
  if (first_removed == normalized_.size() && CoversAll()) return;
  int removed = 0;
  size_t removed_start = 0;
  std::vector<CharChange> dest;
  dest.reserve(normalized_.size());
  std::optional<char32_t> last;
  for (size_t i = 0; i < normalized_.size();) {
    int len;
    char32_t c = DecodeUtf8(normalized_, i, &len);
    i += len;
    if (keep(c)) {
      if (last) dest.push_back({*last, -removed});
      else removed_start = removed;
      last = c;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (last) dest.push_back({*last, -removed});
  Transform(dest, removed_start);
}

void NormalizedString::Map(const std::function<char32_t(char32_t)>& fn) {
  if (CoversAll() && RewriteSameShape(normalized_, [&](char32_t c, char32_t* r) {
        *r = fn(c);
        return true;
      }))
    return;
  std::vector<CharChange> dest;
  for (size_t i = 0; i < normalized_.size();) {
    int len;
    char32_t c = DecodeUtf8(normalized_, i, &len);
    i += len;
    dest.push_back({fn(c), 0});
  }
  Transform(dest, 0);
}

void NormalizedString::Lowercase() {
  std::vector<char32_t> tmp;
  if (CoversAll() && RewriteSameShape(normalized_, [&](char32_t c, char32_t* r) {
        if (c < 0x80) {
          *r = c >= 'A' && c <= 'Z' ? c + 32 : c;
          return true;
        }
        tmp.clear();
        LowercaseChar(c, tmp);
        *r = tmp.empty() ? c : tmp[0];
        return tmp.size() == 1;
      }))
    return;
  std::vector<CharChange> dest;
  for (size_t i = 0; i < normalized_.size();) {
    int len;
    char32_t c = DecodeUtf8(normalized_, i, &len);
    i += len;
    tmp.clear();
    LowercaseChar(c, tmp);
    for (size_t k = 0; k < tmp.size(); ++k) dest.push_back({tmp[k], k > 0 ? 1 : 0});
  }
  Transform(dest, 0);
}

void NormalizedString::Uppercase() {
  std::vector<CharChange> dest;
  std::vector<char32_t> tmp;
  for (size_t i = 0; i < normalized_.size();) {
    int len;
    char32_t c = DecodeUtf8(normalized_, i, &len);
    i += len;
    tmp.clear();
    UppercaseChar(c, tmp);
    for (size_t k = 0; k < tmp.size(); ++k) dest.push_back({tmp[k], k > 0 ? 1 : 0});
  }
  Transform(dest, 0);
}

void NormalizedString::Normalize(NormalForm form) {
  // Every normal form leaves ASCII as it is.
  if (std::all_of(normalized_.begin(), normalized_.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; }) &&
      CoversAll())
    return;
  Transform(NormalizeWithChanges(normalized_, form), 0);
}

void NormalizedString::Prepend(std::string_view s) {
  if (normalized_.empty() || s.empty()) return;
  int len;
  char32_t next = DecodeUtf8(normalized_, 0, &len);
  std::vector<CharChange> dest;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    int l;
    char32_t c = DecodeUtf8(s, i, &l);
    i += l;
    dest.push_back({c, first ? 0 : 1});
    first = false;
  }
  dest.push_back({next, 1});
  TransformRange(0, len, dest, 0);
}

void NormalizedString::Append(std::string_view s) {
  std::vector<CharChange> dest;
  size_t b = 0;
  if (!normalized_.empty()) {
    b = normalized_.size() - 1;
    while (b > 0 && (static_cast<unsigned char>(normalized_[b]) & 0xC0) == 0x80) --b;
    int len;
    dest.push_back({DecodeUtf8(normalized_, b, &len), 0});
  }
  for (size_t i = 0; i < s.size();) {
    int l;
    char32_t c = DecodeUtf8(s, i, &l);
    i += l;
    dest.push_back({c, 1});
  }
  TransformRange(b, normalized_.size(), dest, 0);
}

void NormalizedString::Strip(bool left, bool right) {
  std::u32string chars = ToU32(normalized_);
  size_t leading = 0, trailing = 0;
  if (left) while (leading < chars.size() && IsWhitespace(chars[leading])) ++leading;
  if (right) while (trailing < chars.size() - leading && IsWhitespace(chars[chars.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  std::vector<CharChange> dest;
  const size_t count = chars.size();
  for (size_t i = 0; i < count; ++i) {
    if (i < leading || i >= count - trailing) continue;
    // HF compares the char index with the *byte* length here; kept for identical results.
    if (i == normalized_.size() - trailing - 1) dest.push_back({chars[i], -static_cast<int>(trailing)});
    else dest.push_back({chars[i], 0});
  }
  Transform(dest, leading);
}

Status NormalizedString::Replace(const Regex& pattern, std::string_view content) {
  std::vector<std::pair<size_t, size_t>> matches;
  if (normalized_.empty()) return Status::Ok();
  ACCEL_RETURN_IF_ERROR(pattern.FindAll(normalized_, matches));
  if (matches.empty()) return Status::Ok();
  std::string out;
  std::vector<std::pair<uint32_t, uint32_t>> out_align;
  out.reserve(normalized_.size());
  out_align.reserve(align_.size());
  size_t last = 0;
  for (auto [s, e] : matches) {
    out.append(normalized_, last, s - last);
    out_align.insert(out_align.end(), align_.begin() + last, align_.begin() + s);
    // Every inserted char takes the alignment of the last byte of the match.
    std::pair<uint32_t, uint32_t> a = e < 1 ? std::pair<uint32_t, uint32_t>{0, 0} : align_[e - 1];
    size_t before = out.size();
    out.append(content);
    out_align.insert(out_align.end(), out.size() - before, a);
    last = e;
  }
  out.append(normalized_, last, std::string::npos);
  out_align.insert(out_align.end(), align_.begin() + last, align_.end());
  normalized_ = std::move(out);
  align_ = std::move(out_align);
  return Status::Ok();
}

void SplitRanges(const std::vector<PatternPiece>& pieces, SplitBehavior behavior, std::vector<Span>& out) {
  struct Part { size_t s, e; bool remove; };
  thread_local std::vector<Part> parts;
  parts.clear();
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& p : pieces) parts.push_back({p.start, p.end, false});
      break;
    case SplitBehavior::kRemoved:
      for (const auto& p : pieces) parts.push_back({p.start, p.end, p.is_match});
      break;
    case SplitBehavior::kContiguous: {
      bool prev = false;
      for (const auto& p : pieces) {
        if (p.is_match == prev && !parts.empty()) parts.back().e = p.end;
        else parts.push_back({p.start, p.end, false});
        prev = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool prev = false;
      for (const auto& p : pieces) {
        if (p.is_match && !prev && !parts.empty()) parts.back().e = p.end;
        else parts.push_back({p.start, p.end, false});
        prev = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !prev && !parts.empty()) parts.back().s = it->start;
        else parts.push_back({it->start, it->end, false});
        prev = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  for (const auto& p : parts)
    if (!p.remove) out.push_back({p.s, p.e});
}

std::vector<NormalizedString> NormalizedString::Split(const std::vector<PatternPiece>& pieces, SplitBehavior behavior) const {
  std::vector<Span> ranges;
  SplitRanges(pieces, behavior, ranges);
  std::vector<NormalizedString> out;
  out.reserve(ranges.size());
  for (const auto& [s, e] : ranges) out.push_back(Slice(s, e));
  return out;
}

}  // namespace accel::tok
