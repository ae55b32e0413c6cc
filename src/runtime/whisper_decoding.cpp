#include "runtime/whisper_decoding.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "core/mapped_file.h"
#include "runtime/generation/whisper_timestamps.h"

namespace accel::runtime {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

Status Bad(const std::string& label, const std::string& key, const std::string& what) {
  return Corrupt(label + ": '" + key + "' " + what);
}

// A missing key and an explicit null both mean "not set", as in HF's GenerationConfig.
Result<std::optional<int64_t>> OptInt(const Json& j, const std::string& key, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<int64_t>();
  const Json& v = j[key];
  if (v.is_number_integer()) return std::optional<int64_t>(v.get<int64_t>());
  if (v.is_array() && !v.empty() && v[0].is_number_integer()) return std::optional<int64_t>(v[0].get<int64_t>());  // first EOS
  return Bad(label, key, "is not an integer");
}

Result<std::optional<std::vector<int64_t>>> OptIds(const Json& j, const std::string& key, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::vector<int64_t>>();
  if (!j[key].is_array()) return Bad(label, key, "is not a list of token ids");
  std::vector<int64_t> ids;
  for (const Json& x : j[key]) {
    if (!x.is_number_integer()) return Bad(label, key, "is not a list of token ids");
    ids.push_back(x.get<int64_t>());
  }
  return std::optional<std::vector<int64_t>>(std::move(ids));
}

Result<std::optional<std::map<std::string, int64_t>>> OptMap(const Json& j, const std::string& key, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::map<std::string, int64_t>>();
  if (!j[key].is_object()) return Bad(label, key, "is not an object of token -> id");
  std::map<std::string, int64_t> m;
  for (auto it = j[key].begin(); it != j[key].end(); ++it) {
    if (!it.value().is_number_integer()) return Bad(label, key + "." + it.key(), "is not an integer");
    m[it.key()] = it.value().get<int64_t>();
  }
  return std::optional<std::map<std::string, int64_t>>(std::move(m));
}

}  // namespace

Result<WhisperGenerationConfig> WhisperGenerationConfig::FromJson(const Json& j, const std::string& label) {
  if (!j.is_object()) return Corrupt(label + ": not a JSON object");
  WhisperGenerationConfig c;
  ACCEL_ASSIGN_OR_RETURN(auto start, OptInt(j, "decoder_start_token_id", label));
  ACCEL_ASSIGN_OR_RETURN(auto eos, OptInt(j, "eos_token_id", label));
  ACCEL_ASSIGN_OR_RETURN(auto bos, OptInt(j, "bos_token_id", label));
  if (start) c.decoder_start_token_id = *start;
  if (eos) {
    c.eos_token_id = *eos;
  } else if (bos) {
    c.eos_token_id = *bos;  // HF's timestamp processor falls back to bos_token_id
  }
  ACCEL_ASSIGN_OR_RETURN(c.pad_token_id, OptInt(j, "pad_token_id", label));
  ACCEL_ASSIGN_OR_RETURN(c.suppress_tokens, OptIds(j, "suppress_tokens", label));
  ACCEL_ASSIGN_OR_RETURN(c.begin_suppress_tokens, OptIds(j, "begin_suppress_tokens", label));
  ACCEL_ASSIGN_OR_RETURN(c.lang_to_id, OptMap(j, "lang_to_id", label));
  ACCEL_ASSIGN_OR_RETURN(c.task_to_id, OptMap(j, "task_to_id", label));
  ACCEL_ASSIGN_OR_RETURN(c.no_timestamps_token_id, OptInt(j, "no_timestamps_token_id", label));
  ACCEL_ASSIGN_OR_RETURN(c.max_initial_timestamp_index, OptInt(j, "max_initial_timestamp_index", label));
  if (j.contains("is_multilingual") && j["is_multilingual"].is_boolean()) c.is_multilingual = j["is_multilingual"].get<bool>();
  for (auto [key, field] : {std::pair{"language", &c.language}, std::pair{"task", &c.task}}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_string()) return Bad(label, key, "is not a string");
    *field = j[key].get<std::string>();
  }
  if (j.contains("forced_decoder_ids") && !j["forced_decoder_ids"].is_null()) {
    const Json& f = j["forced_decoder_ids"];
    if (!f.is_array()) return Bad(label, "forced_decoder_ids", "is not a list of [position, token] pairs");
    for (const Json& pair : f) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() || !(pair[1].is_null() || pair[1].is_number_integer())) {
        return Bad(label, "forced_decoder_ids", "is not a list of [position, token] pairs");
      }
      c.forced_decoder_ids.emplace_back(pair[0].get<int64_t>(),
                                        pair[1].is_null() ? std::optional<int64_t>() : std::optional<int64_t>(pair[1].get<int64_t>()));
    }
  }
  return c;
}

Result<WhisperGenerationConfig> WhisperGenerationConfig::Load(const std::string& dir, const HfConfig& config) {
  const std::string path = (fs::path(dir) / "generation_config.json").string();
  if (!fs::exists(path)) return FromJson(config.doc(), config.label());
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Corrupt(path + ": not valid JSON");
  return FromJson(j, path);
}

Result<std::string> WhisperLanguageToken(const WhisperGenerationConfig& cfg, const std::string& language) {
  if (!cfg.lang_to_id) return InvalidArgument("the model's generation config has no lang_to_id: a language cannot be chosen");
  std::string lower = language;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const std::string& key : {lower, "<|" + lower + "|>"}) {
    if (cfg.lang_to_id->count(key)) return key;
  }
  std::string known;
  for (const auto& [token, id] : *cfg.lang_to_id) known += (known.empty() ? "" : " ") + token;
  return InvalidArgument("unknown language '" + language + "': give a code such as 'en' or one of " + known);
}

Result<WhisperPlan> PlanWhisperDecoding(const WhisperGenerationConfig& cfg, const WhisperDecodeOptions& options) {
  // HF reads generation_config.language / .task, which generate()'s arguments overwrite.
  WhisperDecodeOptions o = options;
  if (o.language.empty()) o.language = cfg.language;
  if (o.task.empty()) o.task = cfg.task;
  if (cfg.is_multilingual && !*cfg.is_multilingual && (!o.language.empty() || !o.task.empty())) {
    return InvalidArgument("this Whisper model is English-only: a language or task cannot be chosen");
  }
  std::optional<int64_t> lang_id, task_id;
  if (!o.language.empty()) {
    ACCEL_ASSIGN_OR_RETURN(std::string token, WhisperLanguageToken(cfg, o.language));
    lang_id = cfg.lang_to_id->at(token);
  }
  if (!o.task.empty()) {
    if (o.task != "transcribe" && o.task != "translate") return InvalidArgument("task must be transcribe or translate, not '" + o.task + "'");
    if (!cfg.task_to_id || !cfg.task_to_id->count(o.task)) return InvalidArgument("the model's generation config has no task_to_id entry for '" + o.task + "'");
    task_id = cfg.task_to_id->at(o.task);
  }
  if (o.timestamps && !cfg.no_timestamps_token_id) {
    return InvalidArgument("timestamps need no_timestamps_token_id in the model's generation config");
  }

  // The prompt as HF builds it: start, then forced_decoder_ids (dropped when a language or
  // task is given), the language in slot 1, the task, and <|notimestamps|> unless timestamps
  // are on. kUnset stands for a forced id of null; kDetect for the language the model picks.
  constexpr int64_t kUnset = -1, kDetect = -2;
  std::vector<int64_t> init = {cfg.decoder_start_token_id};
  if (!lang_id && !task_id && !cfg.forced_decoder_ids.empty() && cfg.forced_decoder_ids[0].first == 1) {
    size_t k = 0;
    for (int64_t pos = 1; k < cfg.forced_decoder_ids.size() && cfg.forced_decoder_ids[k].first == pos; ++k, ++pos) {
      init.push_back(cfg.forced_decoder_ids[k].second.value_or(kUnset));
    }
    if (k < cfg.forced_decoder_ids.size()) {
      return InvalidArgument("forced_decoder_ids do not follow Whisper's prompt positions 1, 2, 3, ...");
    }
  }
  const bool language_unset = init.size() <= 1 || init[1] == kUnset;
  auto set_language = [&](int64_t id) {
    if (init.size() > 1) {
      init[1] = id;
    } else {
      init.push_back(id);
    }
  };
  bool detect = false;
  if (lang_id) {
    set_language(*lang_id);
  } else if (cfg.lang_to_id && !cfg.lang_to_id->empty() && language_unset) {
    set_language(kDetect);
    detect = true;
  }
  if (task_id) {
    init.push_back(*task_id);
  } else if (lang_id && cfg.task_to_id && cfg.task_to_id->count("transcribe")) {
    const bool has_task = std::any_of(init.begin(), init.end(), [&](int64_t t) {
      return std::any_of(cfg.task_to_id->begin(), cfg.task_to_id->end(), [&](const auto& kv) { return kv.second == t; });
    });
    if (!has_task) init.push_back(cfg.task_to_id->at("transcribe"));
  }
  if (cfg.no_timestamps_token_id) {
    if (!o.timestamps && init.back() != *cfg.no_timestamps_token_id) {
      init.push_back(*cfg.no_timestamps_token_id);
    } else if (o.timestamps && init.back() == *cfg.no_timestamps_token_id) {
      init.pop_back();
    }
  }
  init.erase(std::remove(init.begin(), init.end(), kUnset), init.end());

  WhisperPlan plan;
  plan.begin_index = static_cast<int64_t>(init.size());
  plan.detect_language = detect;
  const auto detect_at = std::find(init.begin(), init.end(), kDetect);
  plan.prompt.assign(init.begin(), detect_at);
  if (detect) {
    std::vector<int64_t> languages;
    for (const auto& [token, id] : *cfg.lang_to_id) languages.push_back(id);
    std::sort(languages.begin(), languages.end());
    std::vector<std::vector<int64_t>> choices;
    for (auto it = detect_at; it != init.end(); ++it) choices.push_back(*it == kDetect ? languages : std::vector<int64_t>{*it});
    plan.processors.ForcePrefix(static_cast<int64_t>(plan.prompt.size()), std::move(choices));
  }
  // HF's order: begin-suppress, suppress, then the timestamp rules (which see the others' -inf).
  if (cfg.begin_suppress_tokens) {
    plan.processors.Add(std::make_shared<generation::SuppressTokensAtBegin>(*cfg.begin_suppress_tokens, plan.begin_index));
  }
  if (cfg.suppress_tokens) plan.processors.Add(std::make_shared<generation::SuppressTokens>(*cfg.suppress_tokens));
  if (o.timestamps) {
    generation::WhisperTimestampParams tp;
    tp.no_timestamps_token_id = *cfg.no_timestamps_token_id;
    tp.eos_token_id = cfg.eos_token_id;
    tp.begin_index = plan.begin_index;
    tp.max_initial_timestamp_index = cfg.max_initial_timestamp_index;
    plan.processors.Add(std::make_shared<generation::WhisperTimestampRules>(tp));
    plan.timestamp_begin = *cfg.no_timestamps_token_id + 1;
  }
  return plan;
}

}  // namespace accel::runtime
