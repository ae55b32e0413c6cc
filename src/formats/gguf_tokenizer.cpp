#include "formats/gguf_tokenizer.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace accel {
namespace {
using nlohmann::json;

// llama.cpp's token types (gguf's tokenizer.ggml.token_type).
enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

constexpr const char* kGpt2Regex = nullptr;  // ByteLevel's built-in GPT-2 regex
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<double> scores;      // empty when absent
  std::vector<int64_t> types;      // empty when absent
  std::unordered_map<std::string, int64_t> ids;  // first id of each string
};

Result<Vocab> ReadVocab(const json& md) {
  Vocab v;
  auto t = md.find("tokenizer.ggml.tokens");
  if (t == md.end() || !t->is_array() || t->empty()) return Corrupt("GGUF tokenizer: tokenizer.ggml.tokens is missing or empty");
  v.tokens.reserve(t->size());
  for (const auto& s : *t) {
    if (!s.is_string()) return Corrupt("GGUF tokenizer: tokenizer.ggml.tokens holds a non-string");
    v.tokens.push_back(s.get<std::string>());
    v.ids.emplace(v.tokens.back(), static_cast<int64_t>(v.tokens.size() - 1));
  }
  if (auto s = md.find("tokenizer.ggml.scores"); s != md.end()) {
    if (!s->is_array() || s->size() != v.tokens.size())
      return Corrupt("GGUF tokenizer: tokenizer.ggml.scores has " + std::to_string(s->is_array() ? s->size() : 0) +
                     " entries for " + std::to_string(v.tokens.size()) + " tokens");
    for (const auto& x : *s) {
      if (!x.is_number()) return Corrupt("GGUF tokenizer: tokenizer.ggml.scores holds a non-number");
      v.scores.push_back(x.get<double>());
    }
  }
  if (auto s = md.find("tokenizer.ggml.token_type"); s != md.end()) {
    if (!s->is_array() || s->size() != v.tokens.size())
      return Corrupt("GGUF tokenizer: tokenizer.ggml.token_type has " + std::to_string(s->is_array() ? s->size() : 0) +
                     " entries for " + std::to_string(v.tokens.size()) + " tokens");
    for (const auto& x : *s) {
      if (!x.is_number_integer()) return Corrupt("GGUF tokenizer: tokenizer.ggml.token_type holds a non-integer");
      v.types.push_back(x.get<int64_t>());
    }
  }
  return v;
}

// An optional token id key, checked against the vocabulary.
Result<std::optional<int64_t>> TokenId(const json& md, const std::string& key, size_t vocab_size) {
  auto it = md.find(key);
  if (it == md.end()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return Corrupt("GGUF tokenizer: " + key + " is not an integer");
  int64_t id = it->get<int64_t>();
  if (id < 0 || static_cast<size_t>(id) >= vocab_size)
    return Corrupt("GGUF tokenizer: " + key + " = " + std::to_string(id) + " is outside the vocabulary of " +
                   std::to_string(vocab_size));
  return std::optional<int64_t>(id);
}

bool Flag(const json& md, const std::string& key, bool fallback) {
  auto it = md.find(key);
  return it != md.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Start offsets of the UTF-8 code points of `s` (a split may only fall on one).
std::vector<size_t> CodePointStarts(const std::string& s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  return starts;
}

// SentencePiece BPE vocabularies ship scores, not merges. As transformers' converter does:
// every split of a token into two vocabulary pieces is a merge; a token's merges are ordered
// by the pieces' ids, then all merges by (token score, left length, right length), descending
// and stable — so among one token's splits the longest left piece ranks first.
constexpr size_t kMaxMergedPieceBytes = 1024;

std::vector<std::pair<std::string, std::string>> MergesFromScores(const Vocab& v) {
  struct Merge {
    int64_t left, right;
    double score;
    size_t left_chars, right_chars;  // code points
  };
  std::vector<Merge> merges;
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string& t = v.tokens[id];
    if (v.ids.at(t) != static_cast<int64_t>(id)) continue;  // a duplicate string
    // Trying every cut costs O(length^2): SentencePiece pieces are at most 16 code points by
    // default, so a piece past kMaxMergedPieceBytes is a crafted file's, never a merge result.
    if (t.size() > kMaxMergedPieceBytes) continue;
    std::vector<Merge> local;
    for (size_t cut : CodePointStarts(t)) {
      if (cut == 0) continue;
      auto l = v.ids.find(t.substr(0, cut));
      auto r = v.ids.find(t.substr(cut));
      if (l != v.ids.end() && r != v.ids.end())
        local.push_back({l->second, r->second, v.scores[id], CodePointStarts(l->first).size(), CodePointStarts(r->first).size()});
    }
    std::sort(local.begin(), local.end(),
              [](const Merge& a, const Merge& b) { return std::tie(a.left, a.right) < std::tie(b.left, b.right); });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(a.score, a.left_chars, a.right_chars) > std::tie(b.score, b.left_chars, b.right_chars);
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const Merge& m : merges) out.emplace_back(v.tokens[m.left], v.tokens[m.right]);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> GivenMerges(const json& merges, const Vocab& v) {
  if (!merges.is_array()) return Corrupt("GGUF tokenizer: tokenizer.ggml.merges is not an array");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    if (!merges[i].is_string()) return Corrupt("GGUF tokenizer: tokenizer.ggml.merges holds a non-string");
    const std::string m = merges[i].get<std::string>();
    size_t space = m.find(' ');
    if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
      return Corrupt("GGUF tokenizer: merge " + std::to_string(i) + " '" + m + "' is not two tokens separated by a space");
    std::string l = m.substr(0, space), r = m.substr(space + 1);
    for (const std::string* part : {&l, &r})
      if (!v.ids.count(*part))
        return Corrupt("GGUF tokenizer: merge " + std::to_string(i) + " '" + m + "' names '" + *part +
                       "', which is not in tokenizer.ggml.tokens");
    if (!v.ids.count(l + r))
      return Corrupt("GGUF tokenizer: merge " + std::to_string(i) + " '" + m + "' produces '" + l + r +
                     "', which is not in tokenizer.ggml.tokens");
    out.emplace_back(std::move(l), std::move(r));
  }
  return out;
}

// HF's TemplateProcessing as transformers' update_post_processor writes it for BOS/EOS flags.
json TemplateFor(const Vocab& v, std::optional<int64_t> bos, std::optional<int64_t> eos) {
  json single = json::array(), pair = json::array(), specials = json::object();
  auto special = [&](int64_t id, int type_id) {
    const std::string& t = v.tokens[id];
    specials[t] = {{"id", t}, {"ids", {id}}, {"tokens", {t}}};
    return json{{"SpecialToken", {{"id", t}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* name, int type_id) { return json{{"Sequence", {{"id", name}, {"type_id", type_id}}}}; };
  for (int part = 0; part < 2; ++part) {
    json& out = part == 0 ? single : pair;
    for (int seq = 0; seq <= part; ++seq) {
      if (bos) out.push_back(special(*bos, seq));
      out.push_back(sequence(seq == 0 ? "A" : "B", seq));
      if (eos) out.push_back(special(*eos, seq));
    }
  }
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

Result<json> PreTokenizerForGpt2(const json& md) {
  std::string pre = md.value("tokenizer.ggml.pre", std::string("default"));
  const char* regex = nullptr;
  if (pre == "default" || pre == "gpt2" || pre == "gpt-2") regex = kGpt2Regex;
  else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") regex = kLlama3Regex;
  else if (pre == "qwen2") regex = kQwen2Regex;
  else return Unsupported("GGUF tokenizer: pre-tokenizer '" + pre + "' (tokenizer.ggml.pre) is not supported; known: default, gpt2, llama-bpe, qwen2");
  if (!regex) return json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  return json{{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
}

// Llama-3's tokenizer looks a whole pre-token up in the vocabulary before merging (HF's
// ignore_merges, llama.cpp's LLAMA3 pre-type); the merges alone can split some words differently.
bool IgnoresMerges(const json& md, bool spm) {
  if (spm) return false;
  const std::string pre = md.value("tokenizer.ggml.pre", std::string("default"));
  return pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3";
}

}  // namespace

Result<json> GgufTokenizerJson(const json& md) {
  auto model_it = md.find("tokenizer.ggml.model");
  if (model_it == md.end() || !model_it->is_string()) return Corrupt("GGUF tokenizer: tokenizer.ggml.model is missing");
  const std::string kind = model_it->get<std::string>();
  if (kind != "llama" && kind != "gpt2")
    return Unsupported("GGUF tokenizer: tokenizer.ggml.model '" + kind + "' is not supported (known: llama, gpt2)");
  const bool spm = kind == "llama";
  ACCEL_ASSIGN_OR_RETURN(Vocab v, ReadVocab(md));
  const size_t n = v.tokens.size();
  ACCEL_ASSIGN_OR_RETURN(auto bos, TokenId(md, "tokenizer.ggml.bos_token_id", n));
  ACCEL_ASSIGN_OR_RETURN(auto eos, TokenId(md, "tokenizer.ggml.eos_token_id", n));
  ACCEL_ASSIGN_OR_RETURN(auto unk, TokenId(md, "tokenizer.ggml.unknown_token_id", n));
  ACCEL_ASSIGN_OR_RETURN(auto pad, TokenId(md, "tokenizer.ggml.padding_token_id", n));
  (void)pad;  // padding is the caller's choice; validated so a bad file is reported

  std::vector<std::pair<std::string, std::string>> merges;
  if (auto m = md.find("tokenizer.ggml.merges"); m != md.end()) {
    ACCEL_ASSIGN_OR_RETURN(merges, GivenMerges(*m, v));
  } else if (spm) {
    if (v.scores.empty()) return Corrupt("GGUF tokenizer: a llama vocabulary needs tokenizer.ggml.scores (or merges)");
    merges = MergesFromScores(v);
  } else {
    return Corrupt("GGUF tokenizer: a gpt2 vocabulary needs tokenizer.ggml.merges");
  }

  json vocab = json::object();
  for (size_t i = 0; i < n; ++i)
    if (v.ids.at(v.tokens[i]) == static_cast<int64_t>(i)) vocab[v.tokens[i]] = i;
  json merges_json = json::array();
  for (auto& [l, r] : merges) merges_json.push_back({l, r});

  if (spm && !unk && !v.types.empty())
    for (size_t i = 0; i < n && !unk; ++i)
      if (v.types[i] == kUnknown) unk = static_cast<int64_t>(i);

  json added = json::array();
  for (size_t i = 0; i < v.types.size(); ++i) {
    const int64_t type = v.types[i];
    if (type != kUnknown && type != kControl && type != kUserDefined) continue;
    added.push_back({{"id", i}, {"content", v.tokens[i]}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", type != kUserDefined}});
  }

  json model = {{"type", "BPE"},         {"dropout", nullptr},    {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", spm},        {"byte_fallback", spm},  {"ignore_merges", IgnoresMerges(md, spm)},
                {"vocab", vocab},         {"merges", merges_json}};
  if (spm && unk) model["unk_token"] = v.tokens[*unk];

  const bool add_bos = Flag(md, "tokenizer.ggml.add_bos_token", spm);
  const bool add_eos = Flag(md, "tokenizer.ggml.add_eos_token", false);
  std::optional<int64_t> bos_used, eos_used;
  if (add_bos && bos) bos_used = *bos;
  if (add_eos && eos) eos_used = *eos;
  if (add_bos && !bos) return Corrupt("GGUF tokenizer: add_bos_token is set but tokenizer.ggml.bos_token_id is missing");
  if (add_eos && !eos) return Corrupt("GGUF tokenizer: add_eos_token is set but tokenizer.ggml.eos_token_id is missing");

  json doc = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", nullptr}, {"model", model}};
  if (spm) {
    doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
    doc["decoder"] = {{"type", "Sequence"},
                      {"decoders",
                       {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                        {{"type", "ByteFallback"}},
                        {{"type", "Fuse"}},
                        {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    doc["post_processor"] = bos_used || eos_used ? TemplateFor(v, bos_used, eos_used) : json(nullptr);
  } else {
    ACCEL_ASSIGN_OR_RETURN(doc["pre_tokenizer"], PreTokenizerForGpt2(md));
    doc["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
    doc["post_processor"] = bos_used || eos_used
                                ? json{{"type", "Sequence"}, {"processors", {byte_level, TemplateFor(v, bos_used, eos_used)}}}
                                : byte_level;
  }
  return doc;
}

Result<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file) {
  ACCEL_ASSIGN_OR_RETURN(json doc, GgufTokenizerJson(file.metadata()));
  std::string text;
  try {
    text = doc.dump();
  } catch (const json::exception&) {
    return Corrupt(file.label() + ": GGUF tokenizer strings are not valid UTF-8");
  }
  auto tokenizer = Tokenizer::FromJson(text);
  if (!tokenizer.ok()) return Corrupt(file.label() + ": embedded tokenizer: " + tokenizer.status().message());
  return tokenizer;
}

Result<std::optional<text::ChatTemplate>> ChatTemplateFromGguf(const GgufFile& file) {
  const json& md = file.metadata();
  auto it = md.find("tokenizer.chat_template");
  if (it == md.end()) return std::optional<text::ChatTemplate>();
  if (!it->is_string()) return Corrupt(file.label() + ": tokenizer.chat_template is not a string");
  text::ChatTemplate t;
  t.source = it->get<std::string>();
  auto tokens = md.find("tokenizer.ggml.tokens");
  auto token_string = [&](const char* key) -> std::string {
    auto id = md.find(key);
    if (tokens == md.end() || !tokens->is_array() || id == md.end() || !id->is_number_integer()) return "";
    int64_t i = id->get<int64_t>();
    if (i < 0 || static_cast<size_t>(i) >= tokens->size() || !(*tokens)[i].is_string()) return "";
    return (*tokens)[i].get<std::string>();
  };
  t.bos_token = token_string("tokenizer.ggml.bos_token_id");
  t.eos_token = token_string("tokenizer.ggml.eos_token_id");
  return std::optional<text::ChatTemplate>(std::move(t));
}

}  // namespace accel
