// Byte-pair encoding (HF BPE): chars -> symbols, then the lowest-ranked adjacent merge is
// applied repeatedly (ties go to the leftmost pair). Results per word are cached per thread.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

#include "tokenizers/models.h"
#include "tokenizers/word_cache.h"

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
  uint64_t serial = NextModelSerial();
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
    if (cache.Find(word, hash, out)) return Status::Ok();
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
    // A pending unknown run (id, byte length); a flag, not std::optional, which GCC 12 wrongly
    // reports as maybe-uninitialized here.
    bool has_unk = false;
    std::pair<int64_t, uint32_t> unk{0, 0};
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
        if (has_unk) {
          add(unk.first, unk.second);
          has_unk = false;
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
        if (has_unk && fuse_unk) {
          unk.second += static_cast<uint32_t>(clen);
        } else {
          if (has_unk) add(unk.first, unk.second);
          unk = std::make_pair(*unk_id, static_cast<uint32_t>(clen));
          has_unk = true;
        }
      }
      // No unk token: the char is dropped, as in HF.
    }
    if (has_unk) add(unk.first, unk.second);

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
