// Byte-pair encoding (HF BPE): chars -> symbols, then the lowest-ranked adjacent merge is
// applied repeatedly (ties go to the leftmost pair). Results per word are cached per thread.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>

#include "tokenizers/models.h"

namespace accel::tok {
namespace {

struct MergeInfo {
  uint32_t rank;
  int64_t new_id;
};

// (left id, right id) -> merge, as an open-addressing table: this is the hot lookup.
class MergeTable {
 public:
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    vals_.resize(cap);
    mask_ = cap - 1;
  }
  // A later duplicate of a pair overwrites the earlier one, as HF's map insertion does.
  void Put(uint64_t key, MergeInfo v) {
    size_t i = Hash(key) & mask_;
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask_;
    keys_[i] = key;
    vals_[i] = v;
  }
  const MergeInfo* Get(uint64_t key) const {
    size_t i = Hash(key) & mask_;
    while (true) {
      if (keys_[i] == key) return &vals_[i];
      if (keys_[i] == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  static uint64_t Key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  static size_t Hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  std::vector<uint64_t> keys_;
  std::vector<MergeInfo> vals_;
  size_t mask_ = 0;
};

uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t HashWord(std::string_view s) {
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

  // The cached tokens of `word` (nullptr if absent); *count gets their number.
  const WordToken* Find(std::string_view word, uint64_t hash, uint32_t* count) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return nullptr;
      if (s.hash == hash && s.key_len == word.size() && std::memcmp(keys_.data() + s.key_off, word.data(), word.size()) == 0) {
        *count = s.tok_count;
        return toks_.data() + s.tok_off;
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
WordCache& ThreadCache(uint64_t serial) {
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

struct Symbol {
  int64_t id;
  int32_t prev, next;
  uint32_t len;  // bytes of the word this symbol covers (0 = merged away)
};

struct Candidate {
  uint32_t rank;
  int32_t pos;
  int64_t new_id;
  // std::*_heap keep the largest on top: "larger" = lower rank, then leftmost.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

std::atomic<uint64_t> g_next_bpe_serial{1};

class BpeModel : public Model, public WordModel {
 public:
  Vocab vocab;
  MergeTable merges;
  std::optional<std::string> unk_token;
  std::string prefix, suffix;
  bool has_prefix = false, has_suffix = false;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  std::optional<int64_t> unk_id;
  std::vector<int64_t> byte_ids;  // <0xXX> ids for byte fallback (-1 = absent)
  // Id of every one- or two-byte character that is a vocabulary entry (-1 = not one): the
  // symbols every byte-level word starts from, looked up without hashing a string.
  std::vector<int32_t> small_char_ids;
  uint64_t serial = g_next_bpe_serial.fetch_add(1);
  // Per-thread scratch larger than this (elements) is freed after a word, not kept.
  static constexpr size_t kKeepScratch = 1 << 16;

  void Finish() {
    // An empty prefix or suffix changes no lookup: treat it as absent.
    has_prefix = has_prefix && !prefix.empty();
    has_suffix = has_suffix && !suffix.empty();
    small_char_ids.assign(0x800, -1);
    std::string s;
    for (char32_t c = 0; c < 0x800; ++c) {
      s.clear();
      AppendUtf8(s, c);
      if (auto id = vocab.Find(s); id && *id <= INT32_MAX) small_char_ids[c] = static_cast<int32_t>(*id);
    }
  }

  const WordModel* AsWordModel() const override { return this; }
  const std::vector<std::string>& TokenStrings() const override { return vocab.strings(); }

  Status Tokenize(std::string_view seq, std::vector<Token>& out) const override {
    std::span<const WordToken> toks;
    ACCEL_RETURN_IF_ERROR(TokenizeWord(seq, &toks));
    size_t off = 0;
    for (const WordToken& t : toks) {
      const std::string* s = vocab.Token(t.id);
      out.push_back({t.id, s ? *s : std::string(), {off, off + t.len}});
      off += t.len;
    }
    return Status::Ok();
  }

  Status TokenizeWord(std::string_view word, std::span<const WordToken>* out) const override {
    thread_local std::vector<WordToken> scratch;
    *out = {};
    if (scratch.capacity() > kKeepScratch) std::vector<WordToken>().swap(scratch);  // a huge word came before
    if (word.empty()) return Status::Ok();
    WordCache& cache = ThreadCache(serial);
    const uint64_t hash = HashWord(word);
    uint32_t count = 0;
    if (const WordToken* hit = cache.Find(word, hash, &count)) {
      *out = {hit, count};
      return Status::Ok();
    }
    scratch.clear();
    std::optional<int64_t> whole;
    if (ignore_merges) whole = vocab.Find(word);  // a word in the vocabulary is one token
    if (whole) scratch.push_back({*whole, static_cast<uint32_t>(word.size())});
    else ACCEL_RETURN_IF_ERROR(MergeWord(word, scratch));
    cache.Insert(word, hash, scratch.data(), static_cast<uint32_t>(scratch.size()));
    *out = scratch;
    return Status::Ok();
  }

  // HF's merge_word + merge_all: the same symbols, the same queue order, the same check that a
  // queued merge still applies (by its product id), so even its quirks give the same tokens.
  Status MergeWord(std::string_view w, std::vector<WordToken>& out) const {
    thread_local std::vector<Symbol> symbols;
    thread_local std::vector<Candidate> queue;
    thread_local std::string buf;
    symbols.clear();
    std::optional<std::pair<int64_t, uint32_t>> unk;
    auto add = [&](int64_t id, uint32_t len) {
      int32_t idx = static_cast<int32_t>(symbols.size());
      symbols.push_back({id, idx - 1, -1, len});
      if (idx > 0) symbols[idx - 1].next = idx;
    };
    for (size_t i = 0; i < w.size();) {
      int clen;
      const char32_t c = DecodeUtf8(w, i, &clen);
      const bool is_first = i == 0;
      const bool is_last = i + clen >= w.size();
      std::string_view piece = w.substr(i, clen);
      std::optional<int64_t> id;
      const bool affixed = (!is_first && has_prefix) || (is_last && has_suffix);
      if (affixed) {
        buf.clear();
        if (!is_first && has_prefix) buf = prefix;
        buf.append(piece);
        if (is_last && has_suffix) buf += suffix;
        id = vocab.Find(buf);
      } else if (c < 0x800) {
        if (small_char_ids[c] >= 0) id = small_char_ids[c];
      } else {
        id = vocab.Find(piece);
      }
      i += clen;
      if (id) {
        if (unk) {
          add(unk->first, unk->second);
          unk.reset();
        }
        add(*id, static_cast<uint32_t>(clen));
        continue;
      }
      if (byte_fallback) {
        if (!affixed) buf.assign(piece);
        bool all = true;
        for (unsigned char b : buf)
          if (byte_ids[b] < 0) all = false;
        if (all) {
          // HF gives each byte token a length of 1 and leaves a pending unk where it is.
          for (unsigned char b : buf) add(byte_ids[b], 1);
          continue;
        }
      }
      if (unk_token) {
        if (!unk_id) return InvalidArgument("BPE: unk_token '" + *unk_token + "' is not in the vocabulary");
        if (unk && fuse_unk) {
          unk->second += clen;
        } else {
          if (unk) add(unk->first, unk->second);
          unk = std::make_pair(*unk_id, static_cast<uint32_t>(clen));
        }
      }
      // No unk token: the char is dropped, as in HF.
    }
    if (unk) add(unk->first, unk->second);

    queue.clear();
    for (size_t k = 0; k + 1 < symbols.size(); ++k)
      if (const MergeInfo* m = merges.Get(MergeTable::Key(symbols[k].id, symbols[k + 1].id)))
        queue.push_back({m->rank, static_cast<int32_t>(k), m->new_id});
    std::make_heap(queue.begin(), queue.end());
    auto push = [&](Candidate c) {
      queue.push_back(c);
      std::push_heap(queue.begin(), queue.end());
    };
    while (!queue.empty()) {
      std::pop_heap(queue.begin(), queue.end());
      const Candidate top = queue.back();
      queue.pop_back();
      Symbol& cur = symbols[top.pos];
      if (cur.len == 0 || cur.next == -1) continue;
      const int32_t next_pos = cur.next;
      const Symbol right = symbols[next_pos];
      const MergeInfo* m = merges.Get(MergeTable::Key(cur.id, right.id));
      if (!m || m->new_id != top.new_id) continue;
      cur.id = top.new_id;
      cur.len += right.len;
      cur.next = right.next;
      symbols[next_pos].len = 0;
      if (right.next > -1) symbols[right.next].prev = top.pos;
      if (cur.prev >= 0) {
        if (const MergeInfo* pm = merges.Get(MergeTable::Key(symbols[cur.prev].id, cur.id)))
          push({pm->rank, cur.prev, pm->new_id});
      }
      if (cur.next >= 0) {
        if (const MergeInfo* nm = merges.Get(MergeTable::Key(cur.id, symbols[cur.next].id)))
          push({nm->rank, top.pos, nm->new_id});
      }
    }
    for (const Symbol& s : symbols)
      if (s.len != 0) out.push_back({s.id, s.len});
    if (symbols.capacity() > kKeepScratch) std::vector<Symbol>().swap(symbols);
    if (queue.capacity() > kKeepScratch) std::vector<Candidate>().swap(queue);
    return Status::Ok();
  }

  std::optional<int64_t> TokenToId(std::string_view t) const override { return vocab.Find(t); }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (auto* t = vocab.Token(id)) return *t;
    return std::nullopt;
  }
  size_t VocabSize() const override { return vocab.size(); }
};

}  // namespace

std::unique_ptr<Model> ParseBpe(const json& j) {
  auto m = std::make_unique<BpeModel>();
  m->vocab = ParseVocabObject(Field(j, "vocab"), "BPE.vocab");
  if (auto it = j.find("unk_token"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) ThrowJson("BPE.unk_token must be a string or null");
    m->unk_token = it->get<std::string>();
    m->unk_id = m->vocab.Find(*m->unk_token);
  }
  if (auto it = j.find("continuing_subword_prefix"); it != j.end() && !it->is_null()) {
    m->prefix = GetString(j, "continuing_subword_prefix", "");
    m->has_prefix = true;
  }
  if (auto it = j.find("end_of_word_suffix"); it != j.end() && !it->is_null()) {
    m->suffix = GetString(j, "end_of_word_suffix", "");
    m->has_suffix = true;
  }
  m->fuse_unk = GetBool(j, "fuse_unk", false);
  m->byte_fallback = GetBool(j, "byte_fallback", false);
  m->ignore_merges = GetBool(j, "ignore_merges", false);
  if (auto it = j.find("dropout"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) ThrowJson("BPE.dropout must be a number or null");
    double d = it->get<double>();
    if (d < 0.0 || d > 1.0) ThrowJson("BPE.dropout must be in [0, 1]");
    // Dropout is a training-time regulariser; inference with it is random by design and
    // not supported here.
    if (d > 0.0) ThrowJson("BPE.dropout > 0 is not supported (non-deterministic encoding)");
  }
  m->byte_ids.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    if (auto id = m->vocab.Find(name)) m->byte_ids[b] = *id;
  }
  const json& merges = j.contains("merges") ? j["merges"] : json::array();
  if (!merges.is_array()) ThrowJson("BPE.merges must be an array");
  m->merges.Reserve(merges.size());
  const size_t prefix_len = m->prefix.size();
  uint32_t rank = 0;
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& e = merges[i];
    std::string a, b;
    if (e.is_string()) {
      const std::string& line = e.get_ref<const std::string&>();
      if (line.rfind("#version", 0) == 0) continue;
      size_t sp = line.find(' ');
      if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
        ThrowJson("BPE.merges[" + std::to_string(i) + "] is not 'a b': '" + line + "'");
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      ThrowJson("BPE.merges[" + std::to_string(i) + "] must be \"a b\" or [\"a\", \"b\"]");
    }
    auto ida = m->vocab.Find(a), idb = m->vocab.Find(b);
    if (!ida) ThrowJson("BPE.merges[" + std::to_string(i) + "] refers to '" + a + "', which is not in the vocabulary");
    if (!idb) ThrowJson("BPE.merges[" + std::to_string(i) + "] refers to '" + b + "', which is not in the vocabulary");
    if (b.size() < prefix_len) ThrowJson("BPE.merges[" + std::to_string(i) + "]: '" + b + "' is shorter than the subword prefix");
    std::string merged = a + b.substr(prefix_len);
    auto idm = m->vocab.Find(merged);
    if (!idm) ThrowJson("BPE.merges[" + std::to_string(i) + "] produces '" + merged + "', which is not in the vocabulary");
    m->merges.Put(MergeTable::Key(*ida, *idb), {rank, *idm});
    ++rank;
  }
  m->Finish();
  return m;
}

}  // namespace accel::tok
