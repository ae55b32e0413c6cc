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

// Splits every piece on the chars matching `pred`.
Status SplitOnChars(PreTokenizedString& s, bool (*pred)(char32_t), SplitBehavior behavior) {
  std::vector<PatternPiece> pieces;
  return s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
    pieces.clear();
    FindMatches(pred, n.get(), pieces);
    out = n.Split(pieces, behavior);
    return Status::Ok();
  });
}

Status SplitOnRegex(PreTokenizedString& s, const Regex& re, SplitBehavior behavior, bool invert) {
  std::vector<PatternPiece> pieces;
  return s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
    pieces.clear();
    ACCEL_RETURN_IF_ERROR(FindMatches(re, n.get(), pieces));
    if (invert) InvertMatches(pieces);
    out = n.Split(pieces, behavior);
    return Status::Ok();
  });
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

bool IsBertPunc(char32_t c) { return IsAsciiPunctuation(c) || IsPunctuation(c); }

class BertPreTokenizer : public PreTokenizer {
 public:
  Status PreTokenize(PreTokenizedString& s) const override {
    ACCEL_RETURN_IF_ERROR(SplitOnChars(s, IsWhitespace, SplitBehavior::kRemoved));
    return SplitOnChars(s, IsBertPunc, SplitBehavior::kIsolated);
  }
};

class WhitespacePreTokenizer : public PreTokenizer {
 public:
  Status PreTokenize(PreTokenizedString& s) const override {
    static auto re = Regex::Compile(R"(\w+|[^\w\s]+)");
    return SplitOnRegex(s, *re.value(), SplitBehavior::kRemoved, /*invert=*/true);
  }
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  Status PreTokenize(PreTokenizedString& s) const override {
    return SplitOnChars(s, IsWhitespace, SplitBehavior::kRemoved);
  }
};

class PunctuationPreTokenizer : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior b) : behavior_(b) {}
  Status PreTokenize(PreTokenizedString& s) const override { return SplitOnChars(s, IsBertPunc, behavior_); }

 private:
  SplitBehavior behavior_;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  Status PreTokenize(PreTokenizedString& s) const override {
    return SplitOnChars(s, IsNumeric, individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }

 private:
  bool individual_;
};

class CharDelimiterPreTokenizer : public PreTokenizer {
 public:
  explicit CharDelimiterPreTokenizer(char32_t d) : delim_(d) {}
  Status PreTokenize(PreTokenizedString& s) const override {
    std::vector<PatternPiece> pieces;
    char32_t d = delim_;
    return s.SplitEach([&](size_t, NormalizedString&& n, std::vector<NormalizedString>& out) {
      pieces.clear();
      FindMatches([d](char32_t c) { return c == d; }, n.get(), pieces);
      out = n.Split(pieces, SplitBehavior::kRemoved);
      return Status::Ok();
    });
  }

 private:
  char32_t delim_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::shared_ptr<const Regex> re, SplitBehavior b, bool invert)
      : re_(std::move(re)), behavior_(b), invert_(invert) {}
  Status PreTokenize(PreTokenizedString& s) const override { return SplitOnRegex(s, *re_, behavior_, invert_); }
  // The words this split leaves, if it only isolates or removes pieces.
  std::optional<ByteLevelWords> Words() const {
    ByteLevelWords w;
    w.split = re_.get();
    if (behavior_ == SplitBehavior::kIsolated) return w;
    if (behavior_ != SplitBehavior::kRemoved) return std::nullopt;
    (invert_ ? w.keep_gaps : w.keep_matches) = false;  // inverted: the gaps are what matched
    return w;
  }

 private:
  std::shared_ptr<const Regex> re_;
  SplitBehavior behavior_;
  bool invert_;
};

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
    const auto* split = dynamic_cast<const SplitPreTokenizer*>(items_[0].get());
    const auto* bytes = dynamic_cast<const ByteLevelPreTokenizer*>(items_[1].get());
    if (!split || !bytes || bytes->use_regex() || !bytes->AsByteLevelWords()) return std::nullopt;
    return split->Words();
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
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Punctuation") {
    auto it = j.find("behavior");
    return std::make_unique<PunctuationPreTokenizer>(it == j.end() ? SplitBehavior::kIsolated : ParseBehavior(*it));
  }
  if (type == "Digits") return std::make_unique<DigitsPreTokenizer>(GetBool(j, "individual_digits", false));
  if (type == "CharDelimiterSplit")
    return std::make_unique<CharDelimiterPreTokenizer>(SingleChar(GetString(j, "delimiter", ""), "CharDelimiterSplit.delimiter"));
  if (type == "Split")
    return std::make_unique<SplitPreTokenizer>(ParsePattern(Field(j, "pattern")), ParseBehavior(Field(j, "behavior")),
                                               GetBool(j, "invert", false));
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
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  ThrowJson("unknown pre_tokenizer type '" + type + "'");
}

}  // namespace accel::tok
