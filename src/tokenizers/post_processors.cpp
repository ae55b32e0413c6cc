// Post-processors of tokenizer.json: add the model's special tokens around the sequences.
#include "tokenizers/pipeline.h"

namespace accel::tok {

namespace {

// Whether the character at t[b] is one TrimOffsets strips ('Ġ', a byte-level space, or
// White_Space); *len gets its size. ASCII and 'Ġ' (C4 A0) are answered from the bytes.
bool TrimSpaceAt(const std::string& t, size_t b, int* len) {
  const auto c = static_cast<unsigned char>(t[b]);
  if (c < 0x80) {
    *len = 1;
    return c == ' ' || (c >= 9 && c <= 13);
  }
  if (c == 0xC4 && b + 1 < t.size() && static_cast<unsigned char>(t[b + 1]) == 0xA0) {
    *len = 2;
    return true;
  }
  return IsWhitespace(DecodeUtf8(t, b, len));
}

size_t CharStartBefore(const std::string& t, size_t end) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<unsigned char>(t[b]) & 0xC0) == 0x80) --b;
  return b;
}

}  // namespace

void TrimOffsets(Encoding& e, bool add_prefix_space) {
  for (size_t i = 0; i < e.size(); ++i) {
    const std::string& t = e.tokens[i];
    if (t.empty()) continue;
    // Most tokens begin and end with an ASCII character that is no space: one byte each tells.
    auto ascii_non_space = [](unsigned char c) { return c < 0x80 && c != ' ' && (c < 9 || c > 13); };
    const bool check_lead = !ascii_non_space(static_cast<unsigned char>(t.front()));
    const bool check_trail = !ascii_non_space(static_cast<unsigned char>(t.back()));
    if (!check_lead && !check_trail) continue;
    // Space characters at each end, counted independently (an all-space token counts fully
    // at both ends, as HF does).
    size_t leading = 0, trailing = 0;
    int len;
    if (check_lead)
      for (size_t b = 0; b < t.size() && TrimSpaceAt(t, b, &len); b += len) ++leading;
    for (size_t end = check_trail ? t.size() : 0; end > 0;) {
      const size_t b = CharStartBefore(t, end);
      if (!TrimSpaceAt(t, b, &len)) break;
      ++trailing;
      end = b;
    }
    if (leading == 0 && trailing == 0) continue;
    auto& off = e.offsets[i];
    if (leading > 0) {
      bool is_first = i == 0 || off.first == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      off.first = std::min(off.first + leading, off.second);
    }
    if (trailing > 0 && off.second >= trailing) off.second = std::max(off.second - trailing, off.first);
  }
}

namespace {

Encoding SpecialEncoding(const std::vector<int64_t>& ids, const std::vector<std::string>& tokens, int64_t type_id) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  e.type_ids.assign(ids.size(), type_id);
  e.attention_mask.assign(ids.size(), 1);
  e.special_tokens_mask.assign(ids.size(), 1);
  e.offsets.assign(ids.size(), {0, 0});
  e.word_ids.assign(ids.size(), -1);
  e.sequence_ids.assign(ids.size(), -1);
  return e;
}

class TemplateProcessor : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;
    int seq;             // 0 = A, 1 = B
    std::string special;  // special token name
    int64_t type_id;
  };
  struct Special {
    std::vector<int64_t> ids;
    std::vector<std::string> tokens;
  };
  std::vector<Piece> single, pair;
  std::unordered_map<std::string, Special> specials;

  size_t Count(const std::vector<Piece>& t) const {
    size_t n = 0;
    for (const auto& p : t)
      if (!p.is_sequence) n += specials.at(p.special).ids.size();
    return n;
  }
  size_t AddedTokens(bool is_pair) const override { return Count(is_pair ? pair : single); }
  Status ProcessEncodings(std::vector<Encoding>& encs, bool add_special) const override {
    const auto& tmpl = encs.size() == 2 ? pair : single;
    const Piece* last_use[2] = {nullptr, nullptr};
    for (const auto& p : tmpl)
      if (p.is_sequence && p.seq >= 0 && p.seq < 2) last_use[p.seq] = &p;
    std::vector<Encoding> out;
    for (const auto& p : tmpl) {
      if (p.is_sequence) {
        if (static_cast<size_t>(p.seq) >= encs.size()) return InvalidArgument("template uses $B but no pair was given");
        // A template names each sequence once in practice: the last use may take it.
        Encoding e = last_use[p.seq] == &p ? std::move(encs[p.seq]) : encs[p.seq];
        e.SetTypeIds(p.type_id);
        e.SetSequenceId(p.seq);
        out.push_back(std::move(e));
      } else if (add_special) {
        const Special& s = specials.at(p.special);
        out.push_back(SpecialEncoding(s.ids, s.tokens, p.type_id));
      }
    }
    encs = std::move(out);
    return Status::Ok();
  }
};

class BertProcessor : public PostProcessor {
 public:
  std::string sep, cls;
  int64_t sep_id, cls_id;
  size_t AddedTokens(bool is_pair) const override { return is_pair ? 3 : 2; }
  Status ProcessEncodings(std::vector<Encoding>& encs, bool add_special) const override {
    if (!add_special) return Status::Ok();
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      if (i == 0) out.push_back(SpecialEncoding({cls_id}, {cls}, 0));
      out.push_back(std::move(encs[i]));
      out.push_back(SpecialEncoding({sep_id}, {sep}, static_cast<int64_t>(i)));
    }
    encs = std::move(out);
    return Status::Ok();
  }
};

class RobertaProcessor : public PostProcessor {
 public:
  std::string sep, cls;
  int64_t sep_id, cls_id;
  bool trim_offsets, add_prefix_space;
  size_t AddedTokens(bool is_pair) const override { return is_pair ? 4 : 2; }
  Status ProcessEncodings(std::vector<Encoding>& encs, bool add_special) const override {
    if (trim_offsets)
      for (auto& e : encs) TrimOffsets(e, add_prefix_space);
    for (auto& e : encs) e.SetTypeIds(0);
    if (!add_special) return Status::Ok();
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      out.push_back(SpecialEncoding({i == 0 ? cls_id : sep_id}, {i == 0 ? cls : sep}, 0));
      out.push_back(std::move(encs[i]));
      out.push_back(SpecialEncoding({sep_id}, {sep}, 0));
    }
    encs = std::move(out);
    return Status::Ok();
  }
};

class ByteLevelProcessor : public PostProcessor {
 public:
  bool trim_offsets, add_prefix_space;
  size_t AddedTokens(bool) const override { return 0; }
  Status ProcessEncodings(std::vector<Encoding>& encs, bool) const override {
    if (trim_offsets)
      for (auto& e : encs) TrimOffsets(e, add_prefix_space);
    for (size_t i = 0; i < encs.size(); ++i) encs[i].SetSequenceId(static_cast<int64_t>(i));
    return Status::Ok();
  }
};

class SequenceProcessor : public PostProcessor {
 public:
  std::vector<std::unique_ptr<PostProcessor>> items;
  size_t AddedTokens(bool is_pair) const override {
    size_t n = 0;
    for (const auto& p : items) n += p->AddedTokens(is_pair);
    return n;
  }
  Status ProcessEncodings(std::vector<Encoding>& encs, bool add_special) const override {
    for (const auto& p : items) ACCEL_RETURN_IF_ERROR(p->ProcessEncodings(encs, add_special));
    return Status::Ok();
  }
};

std::pair<std::string, int64_t> TokenIdPair(const json& j, const char* what) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_string() || !j[1].is_number_integer())
    ThrowJson(std::string(what) + " must be [token, id]");
  return {j[0].get<std::string>(), j[1].get<int64_t>()};
}

std::vector<TemplateProcessor::Piece> ParseTemplate(const json& j, const char* what) {
  std::vector<TemplateProcessor::Piece> out;
  auto parse_item = [&](const std::string& s) {
    TemplateProcessor::Piece p{};
    std::string name = s;
    int64_t type_id = 0;
    if (auto colon = s.rfind(':'); colon != std::string::npos && colon + 1 < s.size() &&
                                    s.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      name = s.substr(0, colon);
      type_id = std::stoll(s.substr(colon + 1));
    }
    if (name == "$A" || name == "$a" || name == "$0" || name == "$") {
      p = {true, 0, "", type_id};
    } else if (name == "$B" || name == "$b" || name == "$1") {
      p = {true, 1, "", type_id};
    } else {
      p = {false, 0, name, type_id};
    }
    out.push_back(p);
  };
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      size_t e = s.find(' ', i);
      if (e == std::string::npos) e = s.size();
      if (e > i) parse_item(s.substr(i, e - i));
      i = e + 1;
    }
    return out;
  }
  if (!j.is_array()) ThrowJson(std::string(what) + " must be a template list");
  for (const auto& item : j) {
    if (item.is_string()) {
      parse_item(item.get<std::string>());
      continue;
    }
    if (!item.is_object()) ThrowJson(std::string(what) + " items must be objects");
    if (auto it = item.find("Sequence"); it != item.end()) {
      std::string id = GetString(*it, "id", "A");
      if (id != "A" && id != "B") ThrowJson(std::string(what) + ": Sequence id must be A or B");
      out.push_back({true, id == "B" ? 1 : 0, "", GetInt(*it, "type_id", 0)});
    } else if (auto it2 = item.find("SpecialToken"); it2 != item.end()) {
      out.push_back({false, 0, GetString(*it2, "id", ""), GetInt(*it2, "type_id", 0)});
    } else {
      ThrowJson(std::string(what) + " items must be Sequence or SpecialToken");
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<PostProcessor> ParsePostProcessor(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = TypeOf(j, "post_processor");
  if (type == "TemplateProcessing") {
    auto p = std::make_unique<TemplateProcessor>();
    p->single = ParseTemplate(Field(j, "single"), "TemplateProcessing.single");
    p->pair = j.contains("pair") ? ParseTemplate(j["pair"], "TemplateProcessing.pair") : p->single;
    const json& sp = j.contains("special_tokens") ? j["special_tokens"] : json::object();
    if (!sp.is_object()) ThrowJson("TemplateProcessing.special_tokens must be an object");
    for (auto it = sp.begin(); it != sp.end(); ++it) {
      TemplateProcessor::Special s;
      const json& ids = Field(it.value(), "ids");
      const json& toks = Field(it.value(), "tokens");
      if (!ids.is_array() || !toks.is_array() || ids.size() != toks.size())
        ThrowJson("TemplateProcessing special token '" + it.key() + "' needs ids and tokens of equal length");
      for (const auto& x : ids) {
        if (!x.is_number_integer()) ThrowJson("TemplateProcessing special token ids must be integers");
        s.ids.push_back(x.get<int64_t>());
      }
      for (const auto& x : toks) {
        if (!x.is_string()) ThrowJson("TemplateProcessing special token tokens must be strings");
        s.tokens.push_back(x.get<std::string>());
      }
      p->specials[GetString(it.value(), "id", it.key())] = std::move(s);
    }
    for (const auto* t : {&p->single, &p->pair})
      for (const auto& piece : *t)
        if (!piece.is_sequence && !p->specials.count(piece.special))
          ThrowJson("TemplateProcessing uses special token '" + piece.special + "' missing from special_tokens");
    return p;
  }
  if (type == "BertProcessing") {
    auto p = std::make_unique<BertProcessor>();
    std::tie(p->sep, p->sep_id) = TokenIdPair(Field(j, "sep"), "BertProcessing.sep");
    std::tie(p->cls, p->cls_id) = TokenIdPair(Field(j, "cls"), "BertProcessing.cls");
    return p;
  }
  if (type == "RobertaProcessing") {
    auto p = std::make_unique<RobertaProcessor>();
    std::tie(p->sep, p->sep_id) = TokenIdPair(Field(j, "sep"), "RobertaProcessing.sep");
    std::tie(p->cls, p->cls_id) = TokenIdPair(Field(j, "cls"), "RobertaProcessing.cls");
    p->trim_offsets = GetBool(j, "trim_offsets", true);
    p->add_prefix_space = GetBool(j, "add_prefix_space", true);
    return p;
  }
  if (type == "ByteLevel") {
    auto p = std::make_unique<ByteLevelProcessor>();
    p->trim_offsets = GetBool(j, "trim_offsets", true);
    p->add_prefix_space = GetBool(j, "add_prefix_space", true);
    return p;
  }
  if (type == "Sequence") {
    auto p = std::make_unique<SequenceProcessor>();
    const json& list = Field(j, "processors");
    if (!list.is_array()) ThrowJson("Sequence.processors must be an array");
    for (const auto& x : list)
      if (auto q = ParsePostProcessor(x)) p->items.push_back(std::move(q));
    return p;
  }
  ThrowJson("unknown post_processor type '" + type + "'");
}

}  // namespace accel::tok
