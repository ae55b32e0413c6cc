// Pre-tokenizers of tokenizer.json: each splits pieces further (and ByteLevel remaps bytes).
#include "tokenizers/pipeline.h"

namespace accel::tok {
namespace {

SplitBehavior ParseBehavior(const json& j) {
  std::string b = j.is_string() ? j.get<std::string>() : "";
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  ThrowJson("unknown split behavior '" + b + "'");
}

// One split of a text: find pattern pieces (matches and the gaps between them), keep the
// parts `behavior` keeps. Every pre-tokenizer that only splits is a list of these.
class SplitStage {
 public:
  explicit SplitStage(SplitBehavior behavior) : behavior_(behavior) {}
  virtual ~SplitStage() = default;
  virtual Status Find(std::string_view text, std::vector<PatternPiece>& pieces) const = 0;
  SplitBehavior behavior() const { return behavior_; }

 private:
  SplitBehavior behavior_;
};

class CharStage : public SplitStage {
 public:
  CharStage(std::function<bool(char32_t)> pred, SplitBehavior b) : SplitStage(b), pred_(std::move(pred)) {}
  Status Find(std::string_view text, std::vector<PatternPiece>& pieces) const override {
    FindMatches(pred_, text, pieces);
    return Status::Ok();
  }

 private:
  std::function<bool(char32_t)> pred_;
};

class RegexStage : public SplitStage {
 public:
  RegexStage(std::shared_ptr<const Regex> re, SplitBehavior b, bool invert) : SplitStage(b), re_(std::move(re)), invert_(invert) {}
  Status Find(std::string_view text, std::vector<PatternPiece>& pieces) const override {
    ACCEL_RETURN_IF_ERROR(FindMatches(*re_, text, pieces));
    if (invert_) InvertMatches(pieces);
    return Status::Ok();
  }
  const Regex& regex() const { return *re_; }
  bool invert() const { return invert_; }

 private:
  std::shared_ptr<const Regex> re_;
  bool invert_;
};

// A pre-tokenizer made of split stages only (Bert, Whitespace, WhitespaceSplit, Punctuation,
// Digits, CharDelimiterSplit, Split, and Sequences of them). Its words are byte ranges of the
// text, so it is also a WordSplitter.
class SplittingPreTokenizer : public PreTokenizer, public WordSplitter {
 public:
  explicit SplittingPreTokenizer(std::vector<std::shared_ptr<const SplitStage>> stages) : stages_(std::move(stages)) {}

  Status PreTokenize(PreTokenizedString& s) const override {
    std::vector<PatternPiece> pieces;
    for (const auto& stage : stages_) {
      ACCEL_RETURN_IF_ERROR(s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
        pieces.clear();
        ACCEL_RETURN_IF_ERROR(stage->Find(n.get(), pieces));
        out = n.Split(pieces, stage->behavior());
        return Status::Ok();
      }));
    }
    return Status::Ok();
  }

  Status SplitWords(std::string_view text, std::vector<Span>& out) const override {
    thread_local std::vector<Span> current, next;
    thread_local std::vector<PatternPiece> pieces;
    current.assign(1, {0, text.size()});
    for (const auto& stage : stages_) {
      next.clear();
      for (const auto& [start, stop] : current) {
        if (start == stop) continue;  // empty pieces are dropped after every stage
        pieces.clear();
        ACCEL_RETURN_IF_ERROR(stage->Find(text.substr(start, stop - start), pieces));
        const size_t first = next.size();
        SplitRanges(pieces, stage->behavior(), next);
        for (size_t k = first; k < next.size(); ++k) {
          next[k].first += start;
          next[k].second += start;
        }
      }
      current.swap(next);
    }
    for (const auto& r : current)
      if (r.first != r.second) out.push_back(r);
    return Status::Ok();
  }

  const WordSplitter* AsWordSplitter() const override { return this; }
  const std::vector<std::shared_ptr<const SplitStage>>& stages() const { return stages_; }

 private:
  std::vector<std::shared_ptr<const SplitStage>> stages_;
};

std::unique_ptr<PreTokenizer> Splitting(std::vector<std::shared_ptr<const SplitStage>> stages) {
  return std::make_unique<SplittingPreTokenizer>(std::move(stages));
}

const Regex& Gpt2Regex() {
  static auto re = Regex::Compile(std::string(kGpt2SplitPattern));
  return *re.value();
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool prefix, bool regex) : add_prefix_space_(prefix), use_regex_(regex) {}
  std::optional<ByteLevelWords> AsByteLevelWords() const override {
    if (add_prefix_space_) return std::nullopt;  // the prepended space has no place in the text
    ByteLevelWords w;
    if (use_regex_) w.split = &Gpt2Regex();
    return w;
  }
  bool use_regex() const { return use_regex_; }
  Status PreTokenize(PreTokenizedString& s) const override {
    std::vector<PatternPiece> pieces;
    ACCEL_RETURN_IF_ERROR(s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
      if (add_prefix_space_ && (n.get().empty() || n.get()[0] != ' ')) n.Prepend(" ");
      if (use_regex_) {
        pieces.clear();
        ACCEL_RETURN_IF_ERROR(FindMatches(Gpt2Regex(), n.get(), pieces));
        out = n.Split(pieces, SplitBehavior::kIsolated);
      } else {
        out.push_back(std::move(n));
      }
      return Status::Ok();
    }));
    const char32_t* table = ByteToChar();
    std::vector<CharChange> dest;
    for (auto& p : s.pieces) {
      if (p.tokens) continue;
      const std::string& t = p.normalized.get();
      dest.clear();
      for (size_t i = 0; i < t.size();) {
        int len;
        DecodeUtf8(t, i, &len);
        for (int k = 0; k < len; ++k) dest.push_back({table[static_cast<unsigned char>(t[i + k])], k > 0 ? 1 : 0});
        i += len;
      }
      p.normalized.Transform(dest, 0);
    }
    return Status::Ok();
  }

 private:
  bool add_prefix_space_, use_regex_;
};

// ASCII punctuation and symbols, and every P* character. (For ASCII the first test decides:
// every ASCII P* character is in its ranges.)
bool IsBertPunc(char32_t c) { return c < 0x80 ? IsAsciiPunctuation(c) : IsPunctuation(c); }

enum class PrependScheme { kAlways, kNever, kFirst };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {
    AppendUtf8(rep_, replacement);
    space_ = Regex::Literal(" ").value();
  }
  Status PreTokenize(PreTokenizedString& s) const override {
    std::vector<PatternPiece> pieces;
    return s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
      ACCEL_RETURN_IF_ERROR(n.Replace(*space_, rep_));
      bool starts = n.get().compare(0, rep_.size(), rep_) == 0;
      if (scheme_ == PrependScheme::kAlways && !starts) n.Prepend(rep_);
      if (scheme_ == PrependScheme::kFirst && !starts && n.OffsetsOriginal().first == 0) n.Prepend(rep_);
      if (split_) {
        pieces.clear();
        char32_t r = replacement_;
        FindMatches([r](char32_t c) { return c == r; }, n.get(), pieces);
        out = n.Split(pieces, SplitBehavior::kMergedWithNext);
      } else {
        out.push_back(std::move(n));
      }
      return Status::Ok();
    });
  }

 private:
  char32_t replacement_;
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
  std::shared_ptr<const Regex> space_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}
  Status PreTokenize(PreTokenizedString& s) const override {
    for (const auto& p : items_) ACCEL_RETURN_IF_ERROR(p->PreTokenize(s));
    return Status::Ok();
  }
  std::optional<ByteLevelWords> AsByteLevelWords() const override {
    if (items_.size() == 1) return items_[0]->AsByteLevelWords();
    if (items_.size() != 2) return std::nullopt;
    const auto* split = dynamic_cast<const SplittingPreTokenizer*>(items_[0].get());
    const auto* bytes = dynamic_cast<const ByteLevelPreTokenizer*>(items_[1].get());
    if (!split || !bytes || bytes->use_regex() || !bytes->AsByteLevelWords() || split->stages().size() != 1) return std::nullopt;
    const auto* stage = dynamic_cast<const RegexStage*>(split->stages()[0].get());
    if (!stage) return std::nullopt;
    // The words this split leaves, if it only isolates or removes pieces.
    ByteLevelWords w;
    w.split = &stage->regex();
    if (stage->behavior() == SplitBehavior::kIsolated) return w;
    if (stage->behavior() != SplitBehavior::kRemoved) return std::nullopt;
    (stage->invert() ? w.keep_gaps : w.keep_matches) = false;  // inverted: the gaps are what matched
    return w;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

char32_t SingleChar(const std::string& s, const char* what) {
  if (s.empty() || FindInvalidUtf8(s) != std::string::npos || CountChars(s) != 1)
    ThrowJson(std::string(what) + " must be a single character");
  int len;
  return DecodeUtf8(s, 0, &len);
}

}  // namespace

std::unique_ptr<PreTokenizer> ParsePreTokenizer(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = TypeOf(j, "pre_tokenizer");
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPreTokenizer>(GetBool(j, "add_prefix_space", true), GetBool(j, "use_regex", true));
  if (type == "BertPreTokenizer")
    return Splitting({std::make_shared<CharStage>(IsWhitespace, SplitBehavior::kRemoved),
                      std::make_shared<CharStage>(IsBertPunc, SplitBehavior::kIsolated)});
  if (type == "Whitespace") {
    static auto re = Regex::Compile(R"(\w+|[^\w\s]+)");
    return Splitting({std::make_shared<RegexStage>(re.value(), SplitBehavior::kRemoved, /*invert=*/true)});
  }
  if (type == "WhitespaceSplit") return Splitting({std::make_shared<CharStage>(IsWhitespace, SplitBehavior::kRemoved)});
  if (type == "Punctuation") {
    auto it = j.find("behavior");
    return Splitting({std::make_shared<CharStage>(IsBertPunc, it == j.end() ? SplitBehavior::kIsolated : ParseBehavior(*it))});
  }
  if (type == "Digits") {
    bool individual = GetBool(j, "individual_digits", false);
    return Splitting({std::make_shared<CharStage>(IsNumeric, individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous)});
  }
  if (type == "CharDelimiterSplit") {
    char32_t d = SingleChar(GetString(j, "delimiter", ""), "CharDelimiterSplit.delimiter");
    return Splitting({std::make_shared<CharStage>([d](char32_t c) { return c == d; }, SplitBehavior::kRemoved)});
  }
  if (type == "Split")
    return Splitting({std::make_shared<RegexStage>(ParsePattern(Field(j, "pattern")), ParseBehavior(Field(j, "behavior")),
                                                   GetBool(j, "invert", false))});
  if (type == "Metaspace") {
    char32_t rep = SingleChar(GetString(j, "replacement", "\xE2\x96\x81"), "Metaspace.replacement");
    std::string scheme_s = GetString(j, "prepend_scheme", "always");
    PrependScheme scheme = scheme_s == "always" ? PrependScheme::kAlways
                           : scheme_s == "never" ? PrependScheme::kNever
                           : scheme_s == "first" ? PrependScheme::kFirst
                                                 : (ThrowJson("unknown Metaspace.prepend_scheme '" + scheme_s + "'"), PrependScheme::kAlways);
    if (j.contains("add_prefix_space") && !GetBool(j, "add_prefix_space", true)) scheme = PrependScheme::kNever;
    return std::make_unique<MetaspacePreTokenizer>(rep, scheme, GetBool(j, "split", true));
  }
  if (type == "Sequence") {
    const json& list = Field(j, "pretokenizers");
    if (!list.is_array()) ThrowJson("Sequence.pretokenizers must be an array");
    std::vector<std::unique_ptr<PreTokenizer>> items;
    for (const auto& p : list)
      if (auto pt = ParsePreTokenizer(p)) items.push_back(std::move(pt));
    // Splits after splits are one list of split stages (the same pieces, one WordSplitter).
    std::vector<std::shared_ptr<const SplitStage>> stages;
    for (const auto& item : items) {
      const auto* split = dynamic_cast<const SplittingPreTokenizer*>(item.get());
      if (!split) {
        stages.clear();
        break;
      }
      stages.insert(stages.end(), split->stages().begin(), split->stages().end());
    }
    if (!stages.empty()) return Splitting(std::move(stages));
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  ThrowJson("unknown pre_tokenizer type '" + type + "'");
}

}  // namespace accel::tok
