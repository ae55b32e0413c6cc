// accel tokenize: encode text with a model folder's tokenizer, or check a tokenizer against
// golden expected.jsonl records.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "formats/model_source.h"
#include "tokenizers/expected_check.h"
#include "tokenizers/tokenizer.h"

namespace accel::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  std::string pair;
  bool has_pair = false;
  bool no_special = false;
  bool json = false;
  std::string check;
  std::vector<std::string> text;
};

int RunCheck(const Tokenizer& tok, const std::string& path) {
  auto rep = CheckExpectedFile(tok, path);
  if (!rep.ok()) return ReportError(rep.status());
  for (const auto& m : rep->mismatches) std::printf("MISMATCH %s\n", m.c_str());
  std::printf("%zu/%zu cases match\n", rep->passed, rep->cases);
  return rep->passed == rep->cases ? kExitOk : kExitCheckFailed;
}

int RunEncode(const Tokenizer& tok, const TokenizeOptions& o) {
  std::string text;
  for (size_t i = 0; i < o.text.size(); ++i) text += (i ? " " : "") + o.text[i];
  auto enc = o.has_pair ? tok.EncodePair(text, o.pair, !o.no_special) : tok.Encode(text, !o.no_special);
  if (!enc.ok()) return ReportError(enc.status());
  const Encoding& e = enc.value();
  auto decoded = tok.Decode(e.ids, true);
  if (!decoded.ok()) return ReportError(decoded.status());
  if (o.json) {
    nlohmann::json j;
    j["ids"] = e.ids;
    j["tokens"] = e.tokens;
    nlohmann::json offs = nlohmann::json::array();
    for (auto [s, t] : e.offsets) offs.push_back({s, t});
    j["offsets"] = offs;
    j["token_type_ids"] = e.type_ids;
    j["attention_mask"] = e.attention_mask;
    j["special_tokens_mask"] = e.special_tokens_mask;
    j["decoded"] = decoded.value();
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("%zu tokens\n", e.size());
  for (size_t i = 0; i < e.size(); ++i) {
    std::string shown = nlohmann::json(e.tokens[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::printf("%6lld  %-24s [%zu, %zu)\n", static_cast<long long>(e.ids[i]), shown.c_str(), e.offsets[i].first,
                e.offsets[i].second);
  }
  std::printf("decoded: %s\n", decoded.value().c_str());
  return kExitOk;
}

Action SetupTokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  app.add_option("--tokenizer,-m,--model", o->tokenizer, "model folder, HF id in the local cache, tokenizer.json or tokenizer.model")->required();
  app.add_option("--pair", o->pair, "second sequence (encodes a pair)");
  app.add_flag("--no-special", o->no_special, "do not add the post-processor's special tokens");
  app.add_flag("--json", o->json, "print one JSON object");
  app.add_option("--check", o->check, "compare against an expected.jsonl file; exit 1 on any mismatch");
  app.add_option("text", o->text, "text to encode");
  return [o, &app] {
    o->has_pair = app.count("--pair") > 0;
    // An HF id ("gpt2", "org/name") names the cached snapshot's folder; paths stay as they are.
    if (auto dir = ResolveModelDir(o->tokenizer); dir.ok()) o->tokenizer = *dir;
    Status kind = ExpectFileKind(o->tokenizer, {"a folder", "a JSON file", "a SentencePiece model"},
                                 "a model folder, an HF id in the local cache, tokenizer.json or tokenizer.model");
    if (!kind.ok()) return ReportError(kind);
    auto tok = Tokenizer::Load(o->tokenizer);
    if (!tok.ok()) return ReportError(tok.status());
    if (!o->check.empty()) return RunCheck(*tok.value(), o->check);
    if (o->text.empty()) return ReportError(InvalidArgument("tokenize: give TEXT to encode or --check FILE"));
    return RunEncode(*tok.value(), *o);
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("tokenize", "encode text with a tokenizer (HF tokenizer.json or SentencePiece), or --check goldens", SetupTokenize);
}  // namespace accel::cli
