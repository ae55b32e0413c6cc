#include "formats/hf_config.h"

#include "core/json_depth.h"
#include "core/mapped_file.h"

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

Result<HfConfig> HfConfig::Parse(std::string_view text, const std::string& label) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(label + ": not valid JSON");
  if (!j.is_object()) return Corrupt(label + ": top level is not a JSON object");
  if (JsonDeeperThan(j)) return Corrupt(label + ": nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  return FromJson(std::move(j), label);
}

HfConfig HfConfig::FromJson(Json j, std::string label) {
  HfConfig c;
  c.json_ = std::move(j);
  c.label_ = std::move(label);
  return c;
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
  return FromJson(std::move(sub), label_ + ":" + std::string(key));
}

}  // namespace accel
