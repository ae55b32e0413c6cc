#include "tokenizers/expected_check.h"

#include <sstream>

#include "core/bounded_read.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace accel {
namespace {

using nlohmann::json;

std::string Short(const std::string& s) {
  std::string out = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  if (out.size() > 80) out = out.substr(0, 77) + "...";
  return out;
}

template <typename T>
std::string Dump(const T& v) {
  std::string s = json(v).dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 300) s = s.substr(0, 297) + "...";
  return s;
}

}  // namespace

Result<CheckReport> CheckExpectedFile(const Tokenizer& tok, const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path, kDefaultMaxInputBytes, "expected file"));
  std::istringstream in(text);
  CheckReport rep;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json r = json::parse(line, nullptr, false);
    std::string where = path + ":" + std::to_string(lineno);
    if (!r.is_object() || !r.contains("text") || !r["text"].is_string())
      return Corrupt(where + ": not a record with a string 'text'");
    ++rep.cases;
    std::string text = r["text"].get<std::string>();
    bool add_special = r.value("add_special_tokens", true);
    std::string label = where + " text=" + Short(text);
    Result<Encoding> enc = InvalidArgument("unset");
    if (r.contains("text_pair") && r["text_pair"].is_string()) {
      std::string pair = r["text_pair"].get<std::string>();
      label += " pair=" + Short(pair);
      enc = tok.EncodePair(text, pair, add_special);
    } else {
      enc = tok.Encode(text, add_special);
    }
    label += add_special ? " (special)" : " (no special)";
    if (!enc.ok()) {
      rep.mismatches.push_back(label + ": encode failed: " + enc.status().message());
      continue;
    }
    const Encoding& e = enc.value();
    size_t before = rep.mismatches.size();
    auto cmp = [&](const char* field, const auto& got) {
      if (!r.contains(field) || r[field].is_null()) return;
      json g = got;
      if (g != r[field]) rep.mismatches.push_back(label + ": " + field + " expected " + Dump(r[field]) + " got " + Dump(got));
    };
    std::vector<std::vector<size_t>> offsets;
    for (auto [s, t] : e.offsets) offsets.push_back({s, t});
    cmp("ids", e.ids);
    cmp("tokens", e.tokens);
    cmp("offsets", offsets);
    if (!r.contains("surfaces")) {  // HF records; SentencePiece records have no type ids or masks
      cmp("token_type_ids", e.type_ids);
      cmp("special_tokens_mask", e.special_tokens_mask);
      cmp("attention_mask", e.attention_mask);
    }
    if (r.contains("decoded")) {
      auto d = tok.Decode(e.ids, true);
      if (!d.ok()) rep.mismatches.push_back(label + ": decode failed: " + d.status().message());
      else cmp("decoded", d.value());
    }
    if (r.contains("decoded_with_special")) {
      auto d = tok.Decode(e.ids, false);
      if (!d.ok()) rep.mismatches.push_back(label + ": decode failed: " + d.status().message());
      else cmp("decoded_with_special", d.value());
    }
    if (rep.mismatches.size() == before) ++rep.passed;
  }
  if (rep.cases == 0) return Corrupt(path + ": no records");
  return rep;
}

}  // namespace accel
