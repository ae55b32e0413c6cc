#pragma once
// The per-thread cache of word -> tokens that the word models (BPE, WordPiece) keep: flat
// arrays, bounded, one per model for the last few models a thread used.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizers/pipeline.h"

namespace accel::tok {

// A number no other model of this process has: caches are keyed by it, not by address, so a
// model created where a freed one was never sees the old one's words.
inline uint64_t NextModelSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

namespace word_cache_detail {
inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace word_cache_detail

inline uint64_t HashWord(std::string_view s) {
  using word_cache_detail::Load32;
  using word_cache_detail::Load64;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  uint64_t tail;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
      h = (h ^ Load64(p + i)) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    tail = Load64(p + n - 8);  // overlaps the last full block when n is not a multiple of 8
  } else if (n >= 4) {
    tail = Load32(p) | (static_cast<uint64_t>(Load32(p + n - 4)) << 32);
  } else {
    tail = n == 0 ? 0 : p[0] | (static_cast<uint64_t>(p[n / 2]) << 8) | (static_cast<uint64_t>(p[n - 1]) << 16);
  }
  h = (h ^ tail) * 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 29);
}

// The tokens of recently seen words: open addressing over flat arrays (keys in one byte
// buffer, tokens in one vector), growing up to kMaxWords and emptied when full, so its size
// stays bounded whatever text goes through it.
class WordCache {
 public:
  static constexpr size_t kMaxWords = 16384;
  static constexpr size_t kMaxWordLen = 256;  // longer words are rare and not worth keeping

  // Whether `word` is cached; if so *toks gets its tokens (valid until the next Insert).
  bool Find(std::string_view word, uint64_t hash, std::span<const WordToken>* toks) const {
    if (slots_.empty()) return false;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return false;
      if (s.hash == hash && s.key_len == word.size() && std::memcmp(keys_.data() + s.key_off, word.data(), word.size()) == 0) {
        *toks = std::span<const WordToken>(toks_).subspan(s.tok_off, s.tok_count);
        return true;
      }
    }
  }

  void Insert(std::string_view word, uint64_t hash, const WordToken* toks, uint32_t count) {
    if (word.empty() || word.size() > kMaxWordLen) return;
    if (used_ >= kMaxWords) Clear();
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    size_t i = hash & mask_;
    while (slots_[i].key_len != 0) i = (i + 1) & mask_;
    slots_[i] = {hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(word.size()),
                 static_cast<uint32_t>(toks_.size()), count};
    keys_.append(word);
    toks_.insert(toks_.end(), toks, toks + count);
    ++used_;
  }

 private:
  struct Slot {
    uint64_t hash;
    uint32_t key_off, key_len;  // key_len 0 = empty slot (words are never empty)
    uint32_t tok_off, tok_count;
  };

  void Clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    keys_.clear();
    toks_.clear();
    used_ = 0;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 256 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key_len == 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].key_len != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::string keys_;
  std::vector<WordToken> toks_;
  size_t used_ = 0;
};

// This thread's cache for the model with `serial`. A thread keeps caches for the last four
// models it used, so a process that loads many tokenizers holds a bounded amount.
inline WordCache& ThreadCache(uint64_t serial) {
  thread_local std::array<std::pair<uint64_t, std::unique_ptr<WordCache>>, 4> caches;
  if (caches[0].first == serial) return *caches[0].second;
  size_t i = 1;
  while (i < caches.size() && caches[i].first != serial) ++i;
  if (i == caches.size()) {
    i = caches.size() - 1;  // least recently used
    caches[i] = {serial, std::make_unique<WordCache>()};
  }
  std::rotate(caches.begin(), caches.begin() + i, caches.begin() + i + 1);
  return *caches[0].second;
}

}  // namespace accel::tok
