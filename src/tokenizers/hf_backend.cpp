// The tokenizer.json pipeline: added tokens -> normalizer -> pre-tokenizer -> model ->
// post-processor, and decoding through the decoder.
#include "core/json_depth.h"
#include "tokenizers/added_vocabulary.h"
#include "tokenizers/backend.h"
#include "tokenizers/byte_level_words.h"
#include "tokenizers/char_offsets.h"
#include "tokenizers/split_words.h"
#include "tokenizers/models.h"

namespace accel::tok {
namespace {

class HfBackend : public Backend {
 public:
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;
  std::optional<ByteLevelWords> byte_level;  // set when EncodeByteLevelWords applies
  const WordSplitter* splitter = nullptr;     // set when EncodeSplitWords applies

  bool fast_byte_level() const override { return byte_level.has_value(); }
  bool fast_split_words() const override { return splitter != nullptr; }

  Result<Encoding> EncodeSequence(std::string_view text, int64_t type_id) const override {
    if (byte_level) {
      Encoding enc;
      ACCEL_ASSIGN_OR_RETURN(bool done, EncodeByteLevelWords(text, type_id, added, *byte_level, *model->AsWordModel(), enc));
      if (done) return enc;
    }
    PreTokenizedString pts;
    ACCEL_RETURN_IF_ERROR(added.ExtractAndNormalize(normalizer.get(), text, pts));
    if (splitter) {
      Encoding enc;
      ACCEL_ASSIGN_OR_RETURN(bool done, EncodeSplitWords(text, type_id, pts, *splitter, *model, enc));
      if (done) return enc;
    }
    if (pre_tokenizer) ACCEL_RETURN_IF_ERROR(pre_tokenizer->PreTokenize(pts));
    for (auto& p : pts.pieces) {
      if (p.tokens) continue;
      std::vector<Token> toks;
      ACCEL_RETURN_IF_ERROR(model->Tokenize(p.normalized.get(), toks));
      p.tokens = std::move(toks);
    }
    const CharOffsets convert(text);
    Encoding enc;
    for (size_t idx = 0; idx < pts.pieces.size(); ++idx) {
      const auto& p = pts.pieces[idx];
      size_t shift = p.normalized.original_shift();
      for (const Token& t : *p.tokens) {
        Span off = t.offsets;
        if (auto r = p.normalized.NormalizedToOriginal(t.offsets.first, t.offsets.second)) off = {shift + r->first, shift + r->second};
        enc.ids.push_back(t.id);
        enc.tokens.push_back(t.value);
        enc.offsets.push_back(convert(off));
        enc.word_ids.push_back(static_cast<int64_t>(idx));
      }
    }
    size_t n = enc.ids.size();
    enc.type_ids.assign(n, type_id);
    enc.attention_mask.assign(n, 1);
    enc.special_tokens_mask.assign(n, 0);
    enc.sequence_ids.assign(n, 0);
    return enc;
  }

  Result<Encoding> PostProcess(std::vector<Encoding> encs, bool add_special) const override {
    if (post_processor) ACCEL_RETURN_IF_ERROR(post_processor->ProcessEncodings(encs, add_special));
    if (encs.size() == 1) return std::move(encs[0]);
    Encoding out;
    size_t n = 0;
    for (const auto& e : encs) n += e.size();
    out.Reserve(n);
    for (auto& e : encs) out.Append(std::move(e));
    return out;
  }

  size_t AddedTokens(bool is_pair) const override { return post_processor ? post_processor->AddedTokens(is_pair) : 0; }

  Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      std::optional<std::string> t;
      if (const std::string* s = added.DecodeString(id)) t = *s;
      else t = model->IdToToken(id);
      if (!t) continue;
      if (skip_special && added.IsSpecial(*t)) continue;
      tokens.push_back(std::move(*t));
    }
    if (!decoder) {
      std::string out;
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (i) out.push_back(' ');
        out += tokens[i];
      }
      return out;
    }
    ACCEL_RETURN_IF_ERROR(decoder->DecodeChain(tokens));
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }

  std::optional<int64_t> TokenToId(std::string_view token) const override {
    if (auto id = added.TokenToId(token)) return id;
    return model->TokenToId(token);
  }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (const AddedToken* t = added.ById(id)) return t->content;
    return model->IdToToken(id);
  }
  size_t VocabSize(bool with_added) const override {
    size_t n = model->VocabSize();
    if (!with_added) return n;
    for (const auto& t : added.tokens())
      if (!model->IdToToken(t.id)) ++n;
    return n;
  }
};

}  // namespace

Result<std::unique_ptr<Backend>> ParseHfTokenizer(std::string_view json_text, std::string* truncation_json,
                                                  std::string* padding_json, bool fast_paths) {
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt("tokenizer.json is not valid JSON");
  if (!j.is_object()) return Corrupt("tokenizer.json must hold a JSON object");
  if (JsonDeeperThan(j)) return Corrupt("tokenizer.json nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  auto b = std::make_unique<HfBackend>();
  try {
    b->model = ParseModel(Field(j, "model"));
    b->normalizer = ParseNormalizer(j.value("normalizer", json()));
    b->pre_tokenizer = ParsePreTokenizer(j.value("pre_tokenizer", json()));
    b->post_processor = ParsePostProcessor(j.value("post_processor", json()));
    b->decoder = ParseDecoder(j.value("decoder", json()));
    std::vector<AddedToken> added;
    if (auto it = j.find("added_tokens"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) ThrowJson("added_tokens must be an array");
      for (const auto& t : *it) {
        if (!t.is_object()) ThrowJson("added_tokens items must be objects");
        AddedToken a;
        const json& id = Field(t, "id");
        if (!id.is_number_integer() || id.get<int64_t>() < 0) ThrowJson("added_tokens id must be a non-negative integer");
        a.id = id.get<int64_t>();
        const json& content = Field(t, "content");
        if (!content.is_string()) ThrowJson("added_tokens content must be a string");
        a.content = content.get<std::string>();
        a.single_word = GetBool(t, "single_word", false);
        a.lstrip = GetBool(t, "lstrip", false);
        a.rstrip = GetBool(t, "rstrip", false);
        a.normalized = GetBool(t, "normalized", !GetBool(t, "special", false));
        a.special = GetBool(t, "special", false);
        added.push_back(std::move(a));
      }
    }
    ACCEL_RETURN_IF_ERROR(b->added.Build(std::move(added), b->normalizer.get()));
    if (fast_paths && !b->normalizer && b->pre_tokenizer && b->model->AsWordModel())
      b->byte_level = b->pre_tokenizer->AsByteLevelWords();
    if (fast_paths && b->pre_tokenizer) b->splitter = b->pre_tokenizer->AsWordSplitter();
    if (auto it = j.find("truncation"); it != j.end() && !it->is_null() && truncation_json) *truncation_json = it->dump();
    if (auto it = j.find("padding"); it != j.end() && !it->is_null() && padding_json) *padding_json = it->dump();
  } catch (const JsonError& e) {
    return Corrupt("tokenizer.json: " + e.message);
  } catch (const json::exception& e) {
    return Corrupt(std::string("tokenizer.json: ") + e.what());
  }
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace accel::tok
