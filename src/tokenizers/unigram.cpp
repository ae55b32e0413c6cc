// Unigram language model (HF Unigram): Viterbi over a byte trie of the pieces; characters
// with no single-char piece get unk (score min - 10), consecutive unknowns are fused.
#include <cmath>
#include <cstdio>
#include <limits>

#include "tokenizers/byte_trie.h"
#include "tokenizers/models.h"

namespace accel::tok {
namespace {

class UnigramModel : public Model {
 public:
  Vocab vocab;
  std::vector<double> scores;
  ByteTrie trie;
  std::optional<int64_t> unk_id;
  bool byte_fallback = false;
  double min_score = std::numeric_limits<double>::infinity();
  static constexpr double kUnkPenalty = 10.0;

  Status Tokenize(std::string_view s, std::vector<Token>& out) const override {
    if (s.empty()) return Status::Ok();
    struct Node {
      int64_t id = 0;
      double score = 0;
      int64_t start = -1;
    };
    const size_t n = s.size();
    std::vector<Node> best(n + 1);
    const double unk_score = min_score - kUnkPenalty;
    for (size_t pos = 0; pos < n;) {
      double base = best[pos].score;
      int mblen;
      DecodeUtf8(s, pos, &mblen);
      bool single = false;
      trie.CommonPrefixes(s, pos, [&](size_t len, int64_t id) {
        Node& t = best[pos + len];
        double cand = scores[id] + base;
        if (t.start < 0 || cand > t.score) {
          t.score = cand;
          t.start = static_cast<int64_t>(pos);
          t.id = id;
        }
        if (len == static_cast<size_t>(mblen)) single = true;
      });
      if (!single) {
        if (!unk_id) return InvalidArgument("Unigram: text needs the unknown piece but the model has no unk_id");
        Node& t = best[pos + mblen];
        double cand = unk_score + base;
        if (t.start < 0 || cand > t.score) {
          t.score = cand;
          t.start = static_cast<int64_t>(pos);
          t.id = *unk_id;
        }
      }
      pos += mblen;
    }
    // Backtrack, fusing runs of unk.
    std::vector<std::pair<size_t, size_t>> pieces;
    size_t end = n;
    size_t unk_end = 0;
    bool in_unk = false;
    while (end > 0) {
      const Node& node = best[end];
      size_t start = static_cast<size_t>(node.start);
      if (unk_id && node.id == *unk_id) {
        if (!in_unk) unk_end = end;
        in_unk = true;
      } else {
        if (in_unk) pieces.push_back({end, unk_end});
        in_unk = false;
        pieces.push_back({start, end});
      }
      end = start;
    }
    if (in_unk) pieces.push_back({0, unk_end});
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
      std::string_view piece = s.substr(it->first, it->second - it->first);
      Span off{it->first, it->second};
      if (auto id = vocab.Find(piece)) {
        out.push_back({*id, std::string(piece), off});
        continue;
      }
      if (byte_fallback) {
        std::vector<Token> bytes;
        bool all = true;
        for (unsigned char b : piece) {
          char name[8];
          std::snprintf(name, sizeof(name), "<0x%02X>", b);
          auto bid = vocab.Find(name);
          if (!bid) { all = false; break; }
          bytes.push_back({*bid, name, off});
        }
        if (all) {
          for (auto& t : bytes) out.push_back(std::move(t));
          continue;
        }
      }
      if (!unk_id) return InvalidArgument("Unigram: model has no unk_id");
      out.push_back({*unk_id, std::string(piece), off});
    }
    return Status::Ok();
  }

  std::optional<int64_t> TokenToId(std::string_view t) const override { return vocab.Find(t); }
  std::optional<std::string> IdToToken(int64_t id) const override {
    if (auto* t = vocab.Token(id)) return *t;
    return std::nullopt;
  }
  size_t VocabSize() const override { return scores.size(); }
};

}  // namespace

std::unique_ptr<Model> ParseUnigram(const json& j) {
  auto m = std::make_unique<UnigramModel>();
  const json& v = Field(j, "vocab");
  if (!v.is_array()) ThrowJson("Unigram.vocab must be an array of [piece, score]");
  m->scores.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      ThrowJson("Unigram.vocab[" + std::to_string(i) + "] must be [string, number]");
    const std::string& piece = e[0].get_ref<const std::string&>();
    double score = e[1].get<double>();
    if (!std::isfinite(score)) ThrowJson("Unigram.vocab[" + std::to_string(i) + "] has a non-finite score");
    m->vocab.Add(piece, static_cast<int64_t>(i));
    m->scores.push_back(score);
    if (!piece.empty()) m->trie.Insert(piece, static_cast<int64_t>(i));
    if (score < m->min_score) m->min_score = score;
  }
  if (auto it = j.find("unk_id"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) ThrowJson("Unigram.unk_id must be an integer");
    int64_t u = it->get<int64_t>();
    if (v.empty()) ThrowJson("Unigram.vocab is empty");
    if (u < 0 || static_cast<size_t>(u) >= v.size()) ThrowJson("Unigram.unk_id " + std::to_string(u) + " is outside the vocabulary");
    m->unk_id = u;
  }
  m->byte_fallback = GetBool(j, "byte_fallback", false);
  return m;
}

}  // namespace accel::tok
