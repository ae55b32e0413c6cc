// Normalizers of tokenizer.json: each rewrites a NormalizedString, keeping alignments.
#include <cstring>

#include "tokenizers/pipeline.h"
#include "tokenizers/precompiled_charsmap.h"

namespace accel::tok {
namespace {

bool IsChineseChar(char32_t c) {
  // The CJK ranges BERT's original tokenizer treats as separate words (not kana or hangul).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, std::optional<bool> strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  Status Normalize(NormalizedString& s) const override {
    if (clean_) {
      s.Filter([](char32_t c) {
        bool control = !(c == '\t' || c == '\n' || c == '\r') && IsControlOrOther(c);
        return !(c == 0 || c == 0xFFFD || control);
      });
      s.Map([](char32_t c) -> char32_t {
        bool ws = c == '\t' || c == '\n' || c == '\r' || IsWhitespace(c);
        return ws ? U' ' : c;
      });
    }
    if (chinese_) {
      std::vector<CharChange> dest;
      bool any = false;
      const std::string& t = s.get();
      for (size_t i = 0; i < t.size();) {
        int len;
        char32_t c = DecodeUtf8(t, i, &len);
        i += len;
        if (IsChineseChar(c)) {
          dest.push_back({U' ', 0});
          dest.push_back({c, 1});
          dest.push_back({U' ', 1});
          any = true;
        } else {
          dest.push_back({c, 0});
        }
      }
      if (any) s.Transform(dest, 0);
    }
    if (strip_.value_or(lower_)) {
      s.Normalize(NormalForm::kNfd);
      s.Filter([](char32_t c) { return !IsMarkNonspacing(c); });
    }
    if (lower_) s.Lowercase();
    return Status::Ok();
  }

 private:
  bool clean_, chinese_;
  std::optional<bool> strip_;
  bool lower_;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm f) : form_(f) {}
  Status Normalize(NormalizedString& s) const override {
    s.Normalize(form_);
    return Status::Ok();
  }

 private:
  NormalForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  Status Normalize(NormalizedString& s) const override {
    s.Lowercase();
    return Status::Ok();
  }
};

class StripAccentsNormalizer : public Normalizer {
 public:
  Status Normalize(NormalizedString& s) const override {
    s.Filter([](char32_t c) { return !IsCombiningMark(c); });
    return Status::Ok();
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool l, bool r) : left_(l), right_(r) {}
  Status Normalize(NormalizedString& s) const override {
    s.Strip(left_, right_);
    return Status::Ok();
  }

 private:
  bool left_, right_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::shared_ptr<const Regex> re, std::string content) : re_(std::move(re)), content_(std::move(content)) {}
  Status Normalize(NormalizedString& s) const override { return s.Replace(*re_, content_); }

 private:
  std::shared_ptr<const Regex> re_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prepend_(std::move(p)) {}
  Status Normalize(NormalizedString& s) const override {
    s.Prepend(prepend_);
    return Status::Ok();
  }

 private:
  std::string prepend_;
};

class PrecompiledNormalizer : public Normalizer {
 public:
  explicit PrecompiledNormalizer(PrecompiledCharsmap map) : map_(std::move(map)) {}
  Status Normalize(NormalizedString& s) const override {
    std::vector<CharChange> dest;
    bool modified = false;
    const std::string& text = s.get();
    dest.reserve(text.size());
    auto replace = [&](std::string_view old_part, std::string_view new_part) {
      long diff = static_cast<long>(CountChars(new_part)) - static_cast<long>(CountChars(old_part));
      for (size_t i = 0; i < new_part.size();) {
        int len;
        dest.push_back({DecodeUtf8(new_part, i, &len), 0});
        i += len;
      }
      if (diff > 0) {
        for (long k = 0; k < diff && k < static_cast<long>(dest.size()); ++k) dest[dest.size() - 1 - k].change = 1;
      } else if (diff < 0 && !dest.empty()) {
        dest.back().change += static_cast<int>(diff);
      }
    };
    // HF looks up whole grapheme clusters shorter than 6 bytes first, then single chars.
    for (auto [gs, ge] : GraphemeClusters(text)) {
      std::string_view g(text.data() + gs, ge - gs);
      if (g.size() < 6) {
        if (auto norm = map_.Transform(g)) {
          modified = true;
          replace(g, *norm);
          continue;
        }
      }
      for (size_t i = 0; i < g.size();) {
        int len;
        char32_t c = DecodeUtf8(g, i, &len);
        std::string_view part = g.substr(i, len);
        if (auto norm = map_.Transform(part)) {
          modified = true;
          replace(part, *norm);
        } else {
          dest.push_back({c, 0});
        }
        i += len;
      }
    }
    if (modified) s.Transform(dest, 0);
    return Status::Ok();
  }

 private:
  PrecompiledCharsmap map_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> n) : items_(std::move(n)) {}
  Status Normalize(NormalizedString& s) const override {
    for (const auto& n : items_) ACCEL_RETURN_IF_ERROR(n->Normalize(s));
    return Status::Ok();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> ParseNormalizer(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = TypeOf(j, "normalizer");
  if (type == "BertNormalizer") {
    std::optional<bool> strip;
    if (auto it = j.find("strip_accents"); it != j.end() && !it->is_null()) {
      if (!it->is_boolean()) ThrowJson("BertNormalizer.strip_accents must be a boolean or null");
      strip = it->get<bool>();
    }
    return std::make_unique<BertNormalizer>(GetBool(j, "clean_text", true), GetBool(j, "handle_chinese_chars", true),
                                            strip, GetBool(j, "lowercase", true));
  }
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip") return std::make_unique<StripNormalizer>(GetBool(j, "strip_left", true), GetBool(j, "strip_right", true));
  if (type == "Replace")
    return std::make_unique<ReplaceNormalizer>(ParsePattern(Field(j, "pattern")), GetString(j, "content", ""));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(GetString(j, "prepend", ""));
  if (type == "Precompiled") {
    const json& m = Field(j, "precompiled_charsmap");
    if (m.is_null()) return nullptr;  // HF accepts a null map as "no normalization"
    if (!m.is_string()) ThrowJson("Precompiled.precompiled_charsmap must be a base64 string");
    auto map = PrecompiledCharsmap::FromBase64(m.get<std::string>());
    if (!map.ok()) ThrowJson(map.status().message());
    return std::make_unique<PrecompiledNormalizer>(std::move(map.value()));
  }
  if (type == "Sequence") {
    const json& list = Field(j, "normalizers");
    if (!list.is_array()) ThrowJson("Sequence.normalizers must be an array");
    std::vector<std::unique_ptr<Normalizer>> items;
    for (const auto& n : list)
      if (auto p = ParseNormalizer(n)) items.push_back(std::move(p));
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  ThrowJson("unknown normalizer type '" + type + "'");
}

}  // namespace accel::tok
