// Model factory and the two simplest models (WordLevel, WordPiece); BPE and Unigram have their
// own files.
#include "tokenizers/models.h"
#include "tokenizers/word_cache.h"

#include <algorithm>

namespace accel::tok {

bool Vocab::Add(const std::string& token, int64_t id) {
  if (id < 0 || id > (1LL << 31)) return false;
  map_[token] = id;
  if (static_cast<size_t>(id) >= by_id_.size()) {
    by_id_.resize(id + 1);
    present_.resize(id + 1, false);
  }
  by_id_[id] = token;
  present_[id] = true;
  return true;
}

Vocab ParseVocabObject(const json& j, const char* what) {
  if (!j.is_object()) ThrowJson(std::string(what) + " must be an object of token -> id");
  // Strings are kept in a table indexed by id: a few huge ids in a small vocabulary (only ever
  // seen in broken files) would make it gigabytes.
  int64_t max_id = -1;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer()) ThrowJson(std::string(what) + ": id of '" + it.key() + "' is not an integer");
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  if (max_id >= static_cast<int64_t>(4 * j.size() + (1 << 16)))
    ThrowJson(std::string(what) + ": id " + std::to_string(max_id) + " is far beyond the " + std::to_string(j.size()) +
              " tokens");
  Vocab v;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!v.Add(it.key(), it.value().get<int64_t>()))
      ThrowJson(std::string(what) + ": id of '" + it.key() + "' is out of range");
  }
  return v;
}

namespace {

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab v, std::string unk) : vocab_(std::move(v)), unk_(std::move(unk)) {}
  Status Tokenize(std::string_view seq, std::vector<Token>& out) const override {
    if (auto id = vocab_.Find(seq)) {
      out.push_back({*id, std::string(seq), {0, seq.size()}});
      return Status::Ok();
    }
    auto unk = vocab_.Find(unk_);
    if (!unk) return InvalidArgument("WordLevel: '" + std::string(seq) + "' is not in the vocabulary and unk_token '" + unk_ + "' is missing");
    out.push_back({*unk, unk_, {0, seq.size()}});
    return Status::Ok();
  }
  std::optional<int64_t> TokenToId(std::string_view t) const override { return vocab_.Find(t); }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (auto* t = vocab_.Token(id)) return *t;
    return std::nullopt;
  }
  size_t VocabSize() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  std::string unk_;
};

class WordPieceModel : public Model, public WordModel {
 public:
  WordPieceModel(Vocab v, std::string unk, std::string prefix, size_t max_chars)
      : vocab_(std::move(v)), unk_(std::move(unk)), prefix_(std::move(prefix)), max_chars_(max_chars) {
    unk_id_ = vocab_.Find(unk_);
    for (const std::string& t : vocab_.strings()) longest_ = std::max(longest_, t.size());
  }

  const WordModel* AsWordModel() const override { return this; }
  const std::vector<std::string>& TokenStrings() const override { return vocab_.strings(); }

  Status Tokenize(std::string_view seq, std::vector<Token>& out) const override {
    std::span<const WordToken> toks;
    ACCEL_RETURN_IF_ERROR(TokenizeWord(seq, &toks));
    size_t off = 0;
    for (const WordToken& t : toks) {
      out.push_back({t.id, vocab_.strings()[t.id], {off, off + t.len}});
      off += t.len;
    }
    return Status::Ok();
  }

  Status TokenizeWord(std::string_view word, std::span<const WordToken>* out) const override {
    thread_local std::vector<WordToken> scratch;
    *out = {};
    if (word.empty()) return Status::Ok();
    WordCache& cache = ThreadCache(serial_);
    const uint64_t hash = HashWord(word);
    if (cache.Find(word, hash, out)) return Status::Ok();
    scratch.clear();
    ACCEL_RETURN_IF_ERROR(Greedy(word, scratch));
    cache.Insert(word, hash, scratch.data(), static_cast<uint32_t>(scratch.size()));
    *out = scratch;
    return Status::Ok();
  }

  std::optional<int64_t> TokenToId(std::string_view t) const override { return vocab_.Find(t); }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (auto* t = vocab_.Token(id)) return *t;
    return std::nullopt;
  }
  size_t VocabSize() const override { return vocab_.size(); }

 private:
  // Longest vocabulary entry first from the left (continuations carry the prefix); a word with
  // any part not in the vocabulary, or too long, is one unk.
  Status Greedy(std::string_view seq, std::vector<WordToken>& out) const {
    auto unk = [&]() -> Status {
      if (!unk_id_) return InvalidArgument("WordPiece: unk_token '" + unk_ + "' is not in the vocabulary");
      out.assign(1, {*unk_id_, static_cast<uint32_t>(seq.size())});
      return Status::Ok();
    };
    if (CountChars(seq) > max_chars_) return unk();
    thread_local std::string buf;
    size_t start = 0;
    while (start < seq.size()) {
      // No entry is longer than longest_ bytes: start with the last char boundary within that.
      size_t end = seq.size();
      if (end - start > longest_) {
        end = start + longest_;
        while (end > start && (static_cast<unsigned char>(seq[end]) & 0xC0) == 0x80) --end;
      }
      bool found = false;
      while (start < end) {
        buf.clear();
        if (start > 0) buf = prefix_;
        buf.append(seq.substr(start, end - start));
        if (auto id = vocab_.Find(buf)) {
          out.push_back({*id, static_cast<uint32_t>(end - start)});
          found = true;
          break;
        }
        // step back one whole character
        do { --end; } while (end > start && (static_cast<unsigned char>(seq[end]) & 0xC0) == 0x80);
      }
      if (!found) return unk();
      start = end;
    }
    return Status::Ok();
  }

  Vocab vocab_;
  std::string unk_, prefix_;
  size_t max_chars_;
  std::optional<int64_t> unk_id_;
  size_t longest_ = 0;  // bytes of the longest vocabulary entry
  uint64_t serial_ = NextModelSerial();
};

}  // namespace

std::unique_ptr<Model> ParseModel(const json& j) {
  if (!j.is_object()) ThrowJson("model must be an object");
  std::string type;
  if (auto it = j.find("type"); it != j.end() && it->is_string()) {
    type = it->get<std::string>();
  } else if (j.contains("merges")) {  // very old files omit the type
    type = "BPE";
  } else if (j.contains("vocab") && j["vocab"].is_array()) {
    type = "Unigram";
  } else {
    ThrowJson("model has no 'type'");
  }
  if (type == "BPE") return ParseBpe(j);
  if (type == "Unigram") return ParseUnigram(j);
  if (type == "WordPiece")
    return std::make_unique<WordPieceModel>(ParseVocabObject(Field(j, "vocab"), "WordPiece.vocab"),
                                            GetString(j, "unk_token", "[UNK]"), GetString(j, "continuing_subword_prefix", "##"),
                                            static_cast<size_t>(std::max<int64_t>(0, GetInt(j, "max_input_chars_per_word", 100))));
  if (type == "WordLevel")
    return std::make_unique<WordLevelModel>(ParseVocabObject(Field(j, "vocab"), "WordLevel.vocab"), GetString(j, "unk_token", "<unk>"));
  ThrowJson("unknown model type '" + type + "'");
}

}  // namespace accel::tok
