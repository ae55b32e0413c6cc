// SentencePiece .model files through Debian's libsentencepiece: the library does the
// normalization and segmentation; we only map its pieces into an Encoding and add BOS/EOS the
// way the matching HF post-processor would.
#include <sentencepiece_processor.h>

#include <nlohmann/json.hpp>

#include "tokenizers/backend.h"
#include "tokenizers/unicode.h"

namespace accel::tok {
namespace {

class SpmBackend : public Backend {
 public:
  sentencepiece::SentencePieceProcessor sp;
  bool add_bos = false, add_eos = false;

  Result<Encoding> EncodeSequence(std::string_view text, int64_t type_id) const override {
    sentencepiece::ImmutableSentencePieceText spt;
    auto st = sp.Encode(absl::string_view(text.data(), text.size()), spt.mutable_proto());
    if (!st.ok()) return InvalidArgument("sentencepiece: " + st.ToString());
    // Code point index of each byte position (pieces start/end on char boundaries).
    std::vector<uint32_t> char_at(text.size() + 1);
    uint32_t ci = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
      char_at[i] = ci;
      if (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++ci;
    }
    // char_at[i] counts char starts strictly before i; fix positions inside a char to the
    // index of the char they belong to is not needed: spans from spm are char aligned.
    Encoding e;
    for (const auto& p : spt.pieces()) {
      size_t b = std::min<size_t>(p.begin(), text.size()), en = std::min<size_t>(p.end(), text.size());
      e.ids.push_back(p.id());
      e.tokens.push_back(p.piece());
      e.offsets.push_back({char_at[b], char_at[en]});
    }
    size_t n = e.ids.size();
    e.type_ids.assign(n, type_id);
    e.attention_mask.assign(n, 1);
    e.special_tokens_mask.assign(n, 0);
    e.word_ids.assign(n, -1);
    e.sequence_ids.assign(n, 0);
    return e;
  }

  Encoding Special(int id) const {
    Encoding s;
    s.ids = {id};
    s.tokens = {sp.IdToPiece(id)};
    s.offsets = {{0, 0}};
    s.type_ids = {0};
    s.attention_mask = {1};
    s.special_tokens_mask = {1};
    s.word_ids = {-1};
    s.sequence_ids = {-1};
    return s;
  }

  Result<Encoding> PostProcess(std::vector<Encoding> encs, bool add_special) const override {
    Encoding out;
    for (auto& e : encs) {
      if (add_special && add_bos && sp.bos_id() >= 0) out.Append(Special(sp.bos_id()));
      out.Append(e);
      if (add_special && add_eos && sp.eos_id() >= 0) out.Append(Special(sp.eos_id()));
    }
    return out;
  }

  size_t AddedTokens(bool is_pair) const override { return (is_pair ? 2 : 1) * ((add_bos ? 1 : 0) + (add_eos ? 1 : 0)); }

  Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special) const override {
    std::vector<int> v;
    v.reserve(ids.size());
    const int64_t size = sp.GetPieceSize();
    for (int64_t id : ids) {
      if (id < 0 || id >= size) return InvalidArgument("id " + std::to_string(id) + " is outside the vocabulary (size " + std::to_string(size) + ")");
      if (skip_special && sp.IsControl(static_cast<int>(id))) continue;
      v.push_back(static_cast<int>(id));
    }
    return sp.DecodeIds(v);
  }

  std::optional<int64_t> TokenToId(std::string_view token) const override {
    int id = sp.PieceToId(absl::string_view(token.data(), token.size()));
    if (id == sp.unk_id() && token != sp.IdToPiece(sp.unk_id())) return std::nullopt;
    return id;
  }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (id < 0 || id >= sp.GetPieceSize()) return std::nullopt;
    return sp.IdToPiece(static_cast<int>(id));
  }
  size_t VocabSize(bool) const override { return static_cast<size_t>(sp.GetPieceSize()); }
  bool is_sentencepiece() const override { return true; }
};

}  // namespace

Result<std::unique_ptr<Backend>> LoadSentencePiece(const std::string& model_path, const std::string& config_json) {
  auto b = std::make_unique<SpmBackend>();
  auto st = b->sp.Load(model_path);
  if (!st.ok()) return Corrupt(model_path + ": not a SentencePiece model (" + st.ToString() + ")");
  // Which special tokens the HF tokenizer class adds: LlamaTokenizer adds BOS (add_bos_token),
  // T5Tokenizer appends EOS. Without a config, follow the model: BOS if it defines one.
  b->add_bos = b->sp.bos_id() >= 0;
  b->add_eos = false;
  if (!config_json.empty()) {
    auto c = nlohmann::json::parse(config_json, nullptr, false);
    if (c.is_object()) {
      std::string cls = c.value("tokenizer_class", "");
      if (cls.find("T5") != std::string::npos) {
        b->add_bos = false;
        b->add_eos = true;
      }
      if (auto it = c.find("add_bos_token"); it != c.end() && it->is_boolean()) b->add_bos = it->get<bool>();
      if (auto it = c.find("add_eos_token"); it != c.end() && it->is_boolean()) b->add_eos = it->get<bool>();
    }
  }
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace accel::tok
