#include "tokenizers/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "core/bounded_read.h"
#include "tokenizers/backend.h"
#include "tokenizers/unicode.h"

namespace accel {
namespace fs = std::filesystem;

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

namespace {

constexpr size_t kMaxTokenizerBytes = 512 * kMiB;
constexpr size_t kMaxPaddedLength = size_t{1} << 20;  // tokens

Result<std::string> ReadFile(const std::string& path) {
  return ReadRegularFile(path, kMaxTokenizerBytes, "tokenizer file");
}

Result<TruncationParams> ParseTruncation(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  TruncationParams t;
  if (!j.is_object()) return Corrupt("tokenizer.json: truncation must be an object");
  if (auto it = j.find("max_length"); it != j.end()) {
    if (!it->is_number_unsigned()) return Corrupt("tokenizer.json: truncation.max_length must be a non-negative integer");
    t.max_length = it->get<size_t>();
  }
  if (auto it = j.find("stride"); it != j.end()) {
    if (!it->is_number_unsigned()) return Corrupt("tokenizer.json: truncation.stride must be a non-negative integer");
    t.stride = it->get<size_t>();
  }
  std::string strategy = j.value("strategy", "LongestFirst");
  if (strategy == "LongestFirst") t.strategy = TruncationParams::Strategy::kLongestFirst;
  else if (strategy == "OnlyFirst") t.strategy = TruncationParams::Strategy::kOnlyFirst;
  else if (strategy == "OnlySecond") t.strategy = TruncationParams::Strategy::kOnlySecond;
  else return Corrupt("tokenizer.json: unknown truncation.strategy '" + strategy + "'");
  t.direction = j.value("direction", "Right") == "Left" ? TruncationParams::Direction::kLeft : TruncationParams::Direction::kRight;
  return t;
}

Result<PaddingParams> ParsePadding(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Corrupt("tokenizer.json: padding must be an object");
  PaddingParams p;
  if (auto it = j.find("strategy"); it != j.end()) {
    if (it->is_object() && it->contains("Fixed") && (*it)["Fixed"].is_number_unsigned()) p.fixed_length = (*it)["Fixed"].get<size_t>();
    else if (!(it->is_string() && it->get<std::string>() == "BatchLongest")) return Corrupt("tokenizer.json: bad padding.strategy");
  }
  p.direction = j.value("direction", "Right") == "Left" ? PaddingParams::Direction::kLeft : PaddingParams::Direction::kRight;
  if (auto it = j.find("pad_to_multiple_of"); it != j.end() && it->is_number_unsigned()) p.pad_to_multiple_of = it->get<size_t>();
  // Padding allocates per token: lengths beyond any model's context are a hostile file.
  if (p.fixed_length && *p.fixed_length > kMaxPaddedLength)
    return Corrupt("tokenizer.json: padding.strategy.Fixed " + std::to_string(*p.fixed_length) + " exceeds " + std::to_string(kMaxPaddedLength));
  if (p.pad_to_multiple_of > kMaxPaddedLength)
    return Corrupt("tokenizer.json: padding.pad_to_multiple_of " + std::to_string(p.pad_to_multiple_of) + " exceeds " + std::to_string(kMaxPaddedLength));
  if (auto it = j.find("pad_id"); it != j.end() && it->is_number_integer()) p.pad_id = it->get<int64_t>();
  if (auto it = j.find("pad_type_id"); it != j.end() && it->is_number_integer()) p.pad_type_id = it->get<int64_t>();
  if (auto it = j.find("pad_token"); it != j.end() && it->is_string()) p.pad_token = it->get<std::string>();
  return p;
}

// HF Encoding::truncate: keeps the first window, the rest go to `overflowing`.
void TruncateEncoding(Encoding& e, size_t max_len, size_t stride, TruncationParams::Direction dir) {
  size_t n = e.size();
  if (max_len >= n) return;
  auto slice = [&](size_t s, size_t t) {
    Encoding o;
    auto cut = [&](auto& dst, const auto& src) { dst.assign(src.begin() + s, src.begin() + t); };
    cut(o.ids, e.ids); cut(o.type_ids, e.type_ids); cut(o.tokens, e.tokens); cut(o.word_ids, e.word_ids);
    cut(o.offsets, e.offsets); cut(o.special_tokens_mask, e.special_tokens_mask);
    cut(o.attention_mask, e.attention_mask); cut(o.sequence_ids, e.sequence_ids);
    return o;
  };
  if (max_len == 0) {
    Encoding all = std::move(e);
    e = Encoding();
    e.overflowing.push_back(std::move(all));
    return;
  }
  if (stride >= max_len) stride = max_len - 1;
  size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  if (dir == TruncationParams::Direction::kRight) {
    for (size_t s = 0; s < n; s += step) {
      size_t t = std::min(s + max_len, n);
      parts.push_back({s, t});
      if (t == n) break;
    }
  } else {
    for (size_t stop = n; stop > 0;) {
      size_t s = stop > max_len ? stop - max_len : 0;
      parts.push_back({s, stop});
      if (s == 0) break;
      stop = stop > step ? stop - step : 0;
    }
  }
  Encoding first = slice(parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) first.overflowing.push_back(slice(parts[i].first, parts[i].second));
  e = std::move(first);
}

Status Truncate(Encoding& a, Encoding* b, TruncationParams p) {
  if (p.max_length == 0) {
    TruncateEncoding(a, 0, p.stride, p.direction);
    if (b) TruncateEncoding(*b, 0, p.stride, p.direction);
    return Status::Ok();
  }
  size_t total = a.size() + (b ? b->size() : 0);
  if (total <= p.max_length) return Status::Ok();
  size_t to_remove = total - p.max_length;
  if (p.strategy == TruncationParams::Strategy::kLongestFirst) {
    if (b) {
      size_t n1 = a.size(), n2 = b->size();
      bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > p.max_length ? n1 : std::max(n1, p.max_length - n1);
      if (n1 + n2 > p.max_length) {
        n1 = p.max_length / 2;
        n2 = n1 + p.max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      TruncateEncoding(a, n1, p.stride, p.direction);
      TruncateEncoding(*b, n2, p.stride, p.direction);
    } else {
      TruncateEncoding(a, total - to_remove, p.stride, p.direction);
    }
    return Status::Ok();
  }
  Encoding* target = p.strategy == TruncationParams::Strategy::kOnlyFirst ? &a : b;
  if (!target) return InvalidArgument("truncation strategy OnlySecond needs a pair of sequences");
  if (target->size() <= to_remove) return InvalidArgument("truncation: the sequence to truncate is too short");
  TruncateEncoding(*target, target->size() - to_remove, p.stride, p.direction);
  return Status::Ok();
}

void PadEncoding(Encoding& e, size_t target, const PaddingParams& p) {
  if (e.size() >= target) return;
  size_t k = target - e.size();
  auto pad = [&](auto& v, auto value) {
    if (p.direction == PaddingParams::Direction::kRight) v.insert(v.end(), k, value);
    else v.insert(v.begin(), k, value);
  };
  pad(e.ids, p.pad_id);
  pad(e.type_ids, p.pad_type_id);
  pad(e.tokens, p.pad_token);
  pad(e.attention_mask, int64_t{0});
  pad(e.special_tokens_mask, int64_t{1});
  pad(e.offsets, std::pair<size_t, size_t>{0, 0});
  pad(e.byte_offsets, std::pair<size_t, size_t>{0, 0});
  pad(e.word_ids, int64_t{-1});
  pad(e.sequence_ids, int64_t{-1});
}

// Byte position of every code point of `s`, then s.size(), into a reused buffer; returns how
// many positions that is.
size_t CharStarts(std::string_view s, std::vector<size_t>& pos) {
  if (pos.size() < s.size() + 1) pos.resize(s.size() + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.size(); ++i) {  // branch-free: write always, advance on a start byte
    pos[k] = i;
    k += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  pos[k] = s.size();
  return k + 1;
}

// Code point offsets -> UTF-8 byte offsets, per sequence.
void FillByteOffsets(Encoding& e, std::string_view a, const std::string_view* b) {
  thread_local std::vector<size_t> pa, pb;
  const size_t na = CharStarts(a, pa), nb = b ? CharStarts(*b, pb) : 0;
  e.byte_offsets.resize(e.size());
  for (size_t i = 0; i < e.size(); ++i) {
    int64_t seq = e.sequence_ids[i];
    const size_t* p = seq == 0 ? pa.data() : seq == 1 && b ? pb.data() : nullptr;
    if (!p) {
      e.byte_offsets[i] = {0, 0};
      continue;
    }
    const size_t n = seq == 0 ? na : nb;
    auto [s, t] = e.offsets[i];
    auto at = [&](size_t c) { return c < n ? p[c] : p[n - 1]; };
    e.byte_offsets[i] = {at(s), at(t)};
  }
  for (auto* v : {&pa, &pb})  // kept for the next text, unless a huge one made it huge
    if (v->capacity() > (1u << 20)) std::vector<size_t>().swap(*v);
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view json_text) {
  std::string trunc, pad;
  ACCEL_ASSIGN_OR_RETURN(auto backend, tok::ParseHfTokenizer(json_text, &trunc, &pad));
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->backend_ = std::move(backend);
  if (!trunc.empty()) {
    ACCEL_ASSIGN_OR_RETURN(auto tp, ParseTruncation(trunc));
    t->truncation_ = tp;
  }
  if (!pad.empty()) {
    ACCEL_ASSIGN_OR_RETURN(auto pp, ParsePadding(pad));
    t->padding_ = pp;
  }
  return t;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  fs::path json_path, model_path;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "tokenizer.json", ec)) json_path = p / "tokenizer.json";
    else if (fs::exists(p / "tokenizer.model", ec)) model_path = p / "tokenizer.model";
    else return NotFound(path + ": no tokenizer.json or tokenizer.model in this directory");
  } else if (fs::exists(p, ec)) {
    if (p.extension() == ".model") model_path = p;
    else json_path = p;
  } else {
    return NotFound(path + ": no such file or directory");
  }
  if (!json_path.empty()) {
    ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFile(json_path.string()));
    auto t = FromJson(text);
    if (!t.ok()) return t.status().WithContext(json_path.string());
    return t;
  }
  std::string config;
  fs::path cfg = model_path.parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg, ec)) {
    auto c = ReadFile(cfg.string());
    if (c.ok()) config = c.value();
  }
  ACCEL_ASSIGN_OR_RETURN(auto backend, tok::LoadSentencePiece(model_path.string(), config));
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->backend_ = std::move(backend);
  return t;
}

Result<Encoding> Tokenizer::EncodeImpl(std::string_view a, const std::string_view* b, bool add_special) const {
  for (const std::string_view* s : std::initializer_list<const std::string_view*>{&a, b}) {
    if (!s) continue;
    size_t bad = tok::FindInvalidUtf8(*s);
    if (bad != std::string_view::npos)
      return InvalidArgument("input is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  }
  ACCEL_ASSIGN_OR_RETURN(Encoding ea, backend_->EncodeSequence(a, 0));
  std::vector<Encoding> encs;
  encs.push_back(std::move(ea));
  if (b) {
    ACCEL_ASSIGN_OR_RETURN(Encoding eb, backend_->EncodeSequence(*b, 1));
    encs.push_back(std::move(eb));
  }
  if (truncation_) {
    TruncationParams p = *truncation_;
    size_t added = backend_->AddedTokens(b != nullptr);
    if (add_special && added > 0) p.max_length = p.max_length > added ? p.max_length - added : 0;
    ACCEL_RETURN_IF_ERROR(Truncate(encs[0], b ? &encs[1] : nullptr, p));
  }
  for (size_t i = 0; i < encs.size(); ++i) {
    encs[i].SetSequenceId(static_cast<int64_t>(i));
    encs[i].SetTypeIds(static_cast<int64_t>(i));
  }
  std::vector<Encoding> overflow = std::move(encs[0].overflowing);
  ACCEL_ASSIGN_OR_RETURN(Encoding out, backend_->PostProcess(std::move(encs), add_special));
  out.overflowing = std::move(overflow);
  FillByteOffsets(out, a, b);
  if (padding_ && padding_->fixed_length) {
    std::vector<Encoding> one;
    one.push_back(std::move(out));
    Pad(one);
    out = std::move(one[0]);
  } else if (padding_ && padding_->pad_to_multiple_of > 0) {
    std::vector<Encoding> one;
    one.push_back(std::move(out));
    Pad(one);
    out = std::move(one[0]);
  }
  return out;
}

void Tokenizer::Pad(std::vector<Encoding>& batch) const {
  if (!padding_) return;
  size_t target = 0;
  if (padding_->fixed_length) target = *padding_->fixed_length;
  else
    for (const auto& e : batch) target = std::max(target, e.size());
  if (size_t m = padding_->pad_to_multiple_of; m > 0 && target % m != 0) target += m - target % m;
  for (auto& e : batch) PadEncoding(e, target, *padding_);
}

Result<Encoding> Tokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  return EncodeImpl(text, nullptr, add_special_tokens);
}

Result<Encoding> Tokenizer::EncodePair(std::string_view a, std::string_view b, bool add_special_tokens) const {
  return EncodeImpl(a, &b, add_special_tokens);
}

Result<std::vector<Encoding>> Tokenizer::EncodeBatch(const std::vector<std::string>& texts, bool add_special_tokens) const {
  std::vector<Encoding> out(texts.size());
  std::vector<Status> errors(texts.size());
  // Padding is applied once for the whole batch, so encode without it first.
  ThreadPool::Global().Run(static_cast<int64_t>(texts.size()), [&](int64_t i) {
    auto r = EncodeImpl(texts[i], nullptr, add_special_tokens);
    if (r.ok()) out[i] = std::move(r).value();
    else errors[i] = r.status();
  });
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].ok()) return errors[i].WithContext("batch item " + std::to_string(i));
  Pad(out);
  return out;
}

Result<std::string> Tokenizer::Decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  return backend_->Decode(ids, skip_special_tokens);
}

std::optional<int64_t> Tokenizer::TokenToId(std::string_view token) const { return backend_->TokenToId(token); }
std::optional<std::string> Tokenizer::IdToToken(int64_t id) const { return backend_->IdToToken(id); }
size_t Tokenizer::VocabSize(bool with_added) const { return backend_->VocabSize(with_added); }
bool Tokenizer::is_sentencepiece() const { return backend_->is_sentencepiece(); }

}  // namespace accel
