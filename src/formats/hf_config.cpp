#include "formats/hf_config.h"

#include <cmath>

#include "core/json_depth.h"
#include "core/mapped_file.h"
#include "formats/config_defaults.h"

namespace accel {

using Json = nlohmann::json;

Result<HfConfig> HfConfig::Load(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return NotFound(path + ": missing (every model folder needs a config.json)");
    return text.status();
  }
  return Parse(*text, path);
}

namespace {

// The types of the config.json keys the templates read: a wrong type is an error here, where the
// typed accessors would otherwise fall back to a default (`hidden_act: 1`, `layer_norm_eps: "x"`,
// `max_position_embeddings: "64"`). null means "not set" in HF configs and is allowed.
enum class KeyKind { kPositiveInt, kNonNegativeInt, kPositiveFinite, kFinite, kString, kBool };

struct KeySchema {
  const char* key;
  KeyKind kind;
};

constexpr KeySchema kSchema[] = {
    {"hidden_size", KeyKind::kPositiveInt}, {"num_attention_heads", KeyKind::kPositiveInt},
    {"num_hidden_layers", KeyKind::kPositiveInt}, {"intermediate_size", KeyKind::kPositiveInt},
    {"vocab_size", KeyKind::kPositiveInt}, {"max_position_embeddings", KeyKind::kPositiveInt},
    {"num_key_value_heads", KeyKind::kPositiveInt}, {"head_dim", KeyKind::kPositiveInt},
    {"type_vocab_size", KeyKind::kNonNegativeInt}, {"n_positions", KeyKind::kPositiveInt},
    {"n_embd", KeyKind::kPositiveInt}, {"n_layer", KeyKind::kPositiveInt}, {"n_head", KeyKind::kPositiveInt},
    {"n_inner", KeyKind::kPositiveInt}, {"d_model", KeyKind::kPositiveInt}, {"d_ff", KeyKind::kPositiveInt},
    {"d_kv", KeyKind::kPositiveInt}, {"num_layers", KeyKind::kPositiveInt}, {"num_heads", KeyKind::kPositiveInt},
    {"image_size", KeyKind::kPositiveInt}, {"patch_size", KeyKind::kPositiveInt},
    {"num_channels", KeyKind::kPositiveInt}, {"num_mel_bins", KeyKind::kPositiveInt},
    {"layer_norm_eps", KeyKind::kPositiveFinite}, {"layer_norm_epsilon", KeyKind::kPositiveFinite},
    {"rms_norm_eps", KeyKind::kPositiveFinite}, {"norm_eps", KeyKind::kPositiveFinite},
    {"rope_theta", KeyKind::kPositiveFinite}, {"partial_rotary_factor", KeyKind::kPositiveFinite},
    {"initializer_range", KeyKind::kFinite}, {"hidden_act", KeyKind::kString},
    {"hidden_activation", KeyKind::kString}, {"activation_function", KeyKind::kString},
    {"model_type", KeyKind::kString}, {"position_embedding_type", KeyKind::kString},
    {"tie_word_embeddings", KeyKind::kBool}, {"use_cache", KeyKind::kBool},
};

Status CheckSchema(const Json& j, const std::string& label) {
  for (const KeySchema& k : kSchema) {
    auto it = j.find(k.key);
    if (it == j.end() || it->is_null()) continue;
    const Json& v = *it;
    auto bad = [&](const char* want) {
      std::string got = v.dump(-1, ' ', false, Json::error_handler_t::replace);
      if (got.size() > 40) got = got.substr(0, 40) + "...";
      return Corrupt(label + ": '" + k.key + "' must be " + want + " (got " + got + ")");
    };
    switch (k.kind) {
      case KeyKind::kPositiveInt:
        if (!v.is_number_integer() || v.get<int64_t>() <= 0) return bad("a positive integer");
        break;
      case KeyKind::kNonNegativeInt:
        if (!v.is_number_integer() || v.get<int64_t>() < 0) return bad("a non-negative integer");
        break;
      case KeyKind::kPositiveFinite:
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0) return bad("a finite positive number");
        break;
      case KeyKind::kFinite:
        if (!v.is_number() || !std::isfinite(v.get<double>())) return bad("a finite number");
        break;
      case KeyKind::kString:
        if (!v.is_string()) return bad("a string");
        break;
      case KeyKind::kBool:
        if (!v.is_boolean()) return bad("true or false");
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<HfConfig> HfConfig::Parse(std::string_view text, const std::string& label) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(label + ": not valid JSON");
  if (!j.is_object()) return Corrupt(label + ": top level is not a JSON object");
  if (JsonDeeperThan(j)) return Corrupt(label + ": nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  Json defaulted = ApplyConfigClassDefaults(j);
  HfConfig c = FromJson(std::move(j), label);
  c.defaulted_ = std::move(defaulted);
  return c;
}

HfConfig HfConfig::FromJson(Json j, std::string label) {
  HfConfig c;
  c.json_ = std::move(j);
  c.label_ = std::move(label);
  return c;
}

Status HfConfig::CheckSchema() const {
  ACCEL_RETURN_IF_ERROR(accel::CheckSchema(json_, label_));
  for (auto it = json_.begin(); it != json_.end(); ++it)  // text_config, vision_config, encoder, ...
    if (it->is_object()) ACCEL_RETURN_IF_ERROR(accel::CheckSchema(*it, label_ + ":" + it.key()));
  return Status::Ok();
}

std::string HfConfig::architecture() const {
  auto it = json_.find("architectures");
  if (it != json_.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) return (*it)[0].get<std::string>();
  return "";
}

bool HfConfig::Has(std::string_view key) const {
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

const Json* HfConfig::Find(std::initializer_list<std::string_view> keys, std::string_view* found) const {
  for (std::string_view k : keys) {
    auto it = json_.find(k);
    if (it != json_.end() && !it->is_null()) {
      *found = k;
      return &*it;
    }
  }
  return nullptr;
}

Result<int64_t> HfConfig::Int(std::initializer_list<std::string_view> keys) const {
  std::string_view key;
  const Json* v = Find(keys, &key);
  if (!v) return Corrupt(label_ + ": missing required key '" + std::string(*keys.begin()) + "'");
  if (!v->is_number_integer()) return Corrupt(label_ + ": '" + std::string(key) + "' must be an integer");
  return v->get<int64_t>();
}

Result<double> HfConfig::Float(std::initializer_list<std::string_view> keys) const {
  std::string_view key;
  const Json* v = Find(keys, &key);
  if (!v) return Corrupt(label_ + ": missing required key '" + std::string(*keys.begin()) + "'");
  if (!v->is_number()) return Corrupt(label_ + ": '" + std::string(key) + "' must be a number");
  return v->get<double>();
}

int64_t HfConfig::IntOr(std::string_view key, int64_t fallback) const {
  auto it = json_.find(key);
  return it != json_.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

double HfConfig::FloatOr(std::string_view key, double fallback) const {
  auto it = json_.find(key);
  return it != json_.end() && it->is_number() ? it->get<double>() : fallback;
}

bool HfConfig::BoolOr(std::string_view key, bool fallback) const {
  auto it = json_.find(key);
  return it != json_.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string HfConfig::StringOr(std::string_view key, std::string fallback) const {
  auto it = json_.find(key);
  return it != json_.end() && it->is_string() ? it->get<std::string>() : fallback;
}

HfConfig HfConfig::Sub(std::string_view key) const {
  auto it = json_.find(key);
  Json sub = it != json_.end() && it->is_object() ? *it : Json::object();
  HfConfig c = FromJson(std::move(sub), label_ + ":" + std::string(key));
  auto d = defaulted_.find(key);
  if (d != defaulted_.end() && d->is_object()) c.defaulted_ = *d;
  return c;
}

bool HfConfig::IsDefault(std::string_view key) const {
  auto d = defaulted_.find(key);
  return d != defaulted_.end() && d->is_boolean();
}

std::string HfConfig::Describe(std::string_view key) const {
  std::string out = "'" + std::string(key) + "'";
  auto it = json_.find(key);
  if (it == json_.end()) return out + " (not set)";
  std::string v = it->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (v.size() > 40) v = v.substr(0, 40) + "...";
  out += " = " + v;
  if (IsDefault(key)) out += " (the " + model_type() + " default)";
  auto d = defaulted_.find(key);
  if (d != defaulted_.end() && d->is_string()) out += " (from '" + d->get<std::string>() + "')";
  return out;
}

std::string HfConfig::KeyOf(std::initializer_list<std::string_view> keys) const {
  for (std::string_view k : keys)
    if (Has(k)) return std::string(k);
  return keys.size() ? std::string(*keys.begin()) : std::string();
}

Status HfConfig::Contradiction(std::string_view a, std::string_view relation, std::string_view b) const {
  return Corrupt(label_ + ": " + Describe(a) + " " + std::string(relation) + " " + Describe(b));
}

}  // namespace accel
