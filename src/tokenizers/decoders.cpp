// Decoders of tokenizer.json: turn token strings back into text, as a chain over the tokens.
#include "tokenizers/pipeline.h"
#include "tokenizers/utf8_lossy.h"

namespace accel::tok {
namespace {

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string WordPieceCleanup(std::string s) {
  ReplaceAll(s, " .", ".");
  ReplaceAll(s, " ?", "?");
  ReplaceAll(s, " !", "!");
  ReplaceAll(s, " ,", ",");
  ReplaceAll(s, " ' ", "'");
  ReplaceAll(s, " n't", "n't");
  ReplaceAll(s, " 'm", "'m");
  ReplaceAll(s, " do not", " don't");
  ReplaceAll(s, " 's", "'s");
  ReplaceAll(s, " 've", "'ve");
  ReplaceAll(s, " 're", "'re");
  return s;
}

class ByteLevelDecoder : public Decoder {
 public:
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      size_t mark = bytes.size();
      bool ok = true;
      for (size_t i = 0; i < t.size();) {
        int len;
        int b = CharToByte(DecodeUtf8(t, i, &len));
        if (b < 0) { ok = false; break; }
        bytes.push_back(static_cast<char>(b));
        i += len;
      }
      if (!ok) {
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, Utf8Lossy(bytes));
    return Status::Ok();
  }
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) t.erase(0, prefix_.size());
        else t.insert(0, " ");
      }
      if (cleanup_) t = WordPieceCleanup(std::move(t));
    }
    return Status::Ok();
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t rep, bool never) : rep_(rep), never_(never) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t k = 0; k < t.size();) {
        int len;
        char32_t c = DecodeUtf8(t, k, &len);
        k += len;
        if (c == rep_) {
          if (!(i == 0 && !never_)) out.push_back(' ');
        } else {
          AppendUtf8(out, c);
        }
      }
      tokens[i] = std::move(out);
    }
    return Status::Ok();
  }

 private:
  char32_t rep_;
  bool never_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) ReplaceAll(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    return Status::Ok();
  }

 private:
  std::string suffix_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (FindInvalidUtf8(pending) == std::string::npos) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
        int hi = hex(t[3]), lo = hex(t[4]);
        if (hi >= 0 && lo >= 0) byte = hi * 16 + lo;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
    return Status::Ok();
  }
};

class FuseDecoder : public Decoder {
 public:
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
    return Status::Ok();
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t c, size_t start, size_t stop) : c_(c), start_(start), stop_(stop) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      std::u32string chars = ToU32(t);
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i] == c_) start_cut = i + 1;
        else break;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        size_t index = chars.size() - i - 1;
        if (chars[index] == c_) stop_cut = index;
        else break;
      }
      std::string out;
      for (size_t i = start_cut; i < stop_cut; ++i) AppendUtf8(out, chars[i]);
      t = std::move(out);
    }
    return Status::Ok();
  }

 private:
  char32_t c_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::shared_ptr<const Regex> re, std::string content) : re_(std::move(re)), content_(std::move(content)) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<PatternPiece> pieces;
    for (auto& t : tokens) {
      pieces.clear();
      ACCEL_RETURN_IF_ERROR(FindMatches(*re_, t, pieces));
      std::string out;
      for (const auto& p : pieces) {
        if (p.is_match) out += content_;
        else out.append(t, p.start, p.end - p.start);
      }
      t = std::move(out);
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<const Regex> re_;
  std::string content_;
};

class CtcDecoder : public Decoder {
 public:
  CtcDecoder(std::string pad, std::string delim, bool cleanup) : pad_(std::move(pad)), delim_(std::move(delim)), cleanup_(cleanup) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // dedup consecutive
      std::string r = tokens[i];
      ReplaceAll(r, pad_, "");
      if (cleanup_) {
        r = WordPieceCleanup(std::move(r));
        ReplaceAll(r, delim_, " ");
      }
      if (!r.empty()) out.push_back(std::move(r));
    }
    tokens = std::move(out);
    return Status::Ok();
  }

 private:
  std::string pad_, delim_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> d) : items_(std::move(d)) {}
  Status DecodeChain(std::vector<std::string>& tokens) const override {
    for (const auto& d : items_) ACCEL_RETURN_IF_ERROR(d->DecodeChain(tokens));
    return Status::Ok();
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

char32_t OneChar(const std::string& s, const char* what) {
  if (s.empty() || FindInvalidUtf8(s) != std::string::npos || CountChars(s) != 1)
    ThrowJson(std::string(what) + " must be a single character");
  int len;
  return DecodeUtf8(s, 0, &len);
}

}  // namespace

std::unique_ptr<Decoder> ParseDecoder(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = TypeOf(j, "decoder");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "WordPiece") return std::make_unique<WordPieceDecoder>(GetString(j, "prefix", "##"), GetBool(j, "cleanup", true));
  if (type == "Metaspace") {
    char32_t rep = OneChar(GetString(j, "replacement", "\xE2\x96\x81"), "Metaspace.replacement");
    std::string scheme = GetString(j, "prepend_scheme", "always");
    if (scheme != "always" && scheme != "never" && scheme != "first") ThrowJson("unknown Metaspace.prepend_scheme '" + scheme + "'");
    bool never = scheme == "never";
    if (j.contains("add_prefix_space") && !GetBool(j, "add_prefix_space", true)) never = true;
    return std::make_unique<MetaspaceDecoder>(rep, never);
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(GetString(j, "suffix", "</w>"));
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    int64_t start = GetInt(j, "start", 0), stop = GetInt(j, "stop", 0);
    if (start < 0 || stop < 0) ThrowJson("Strip.start/stop must be >= 0");
    return std::make_unique<StripDecoder>(OneChar(GetString(j, "content", " "), "Strip.content"), start, stop);
  }
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(ParsePattern(Field(j, "pattern")), GetString(j, "content", ""));
  if (type == "CTC")
    return std::make_unique<CtcDecoder>(GetString(j, "pad_token", "<pad>"), GetString(j, "word_delimiter_token", "|"), GetBool(j, "cleanup", true));
  if (type == "Sequence") {
    const json& list = Field(j, "decoders");
    if (!list.is_array()) ThrowJson("Sequence.decoders must be an array");
    std::vector<std::unique_ptr<Decoder>> items;
    for (const auto& d : list)
      if (auto p = ParseDecoder(d)) items.push_back(std::move(p));
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  ThrowJson("unknown decoder type '" + type + "'");
}

}  // namespace accel::tok
