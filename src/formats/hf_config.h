#pragma once
// config.json of a Hugging Face model, with typed accessors whose errors name the file and key.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace accel {

class HfConfig {
 public:
  static Result<HfConfig> Load(const std::string& path);
  // Load and Parse fill the keys the file omits from the defaults of HF's config class for its
  // model_type (formats/config_defaults.h), nested configs included: every reader sees the values
  // the model was built with. FromJson takes the document as it is.
  static Result<HfConfig> Parse(std::string_view text, const std::string& label);
  static HfConfig FromJson(nlohmann::json j, std::string label);

  const nlohmann::json& doc() const { return json_; }
  // The types and ranges of the keys model templates read (hidden_act a string, layer_norm_eps
  // finite and positive, max_position_embeddings a positive integer, ...), here and in nested
  // configs: a wrong type is an error, never a silent default. Loading a model checks it;
  // classification tolerates odd configs.
  Status CheckSchema() const;
  const std::string& label() const { return label_; }
  std::string model_type() const { return StringOr("model_type", ""); }
  std::string architecture() const;  // first of "architectures", or ""

  bool Has(std::string_view key) const;
  // Required values: the error names the file and the key. The first present alias wins,
  // which is how configs that spell a field differently (DistilBERT's `dim`) are read.
  Result<int64_t> Int(std::initializer_list<std::string_view> keys) const;
  Result<double> Float(std::initializer_list<std::string_view> keys) const;
  int64_t IntOr(std::string_view key, int64_t fallback) const;
  double FloatOr(std::string_view key, double fallback) const;
  bool BoolOr(std::string_view key, bool fallback) const;
  std::string StringOr(std::string_view key, std::string fallback) const;
  // A nested config (e.g. "text_config"); missing → empty object.
  HfConfig Sub(std::string_view key) const;

  // What Load/Parse filled in: json_'s shape, `true` for a key from the class defaults, the alias
  // name for a key copied from an alias, objects for nested configs.
  const nlohmann::json& defaulted() const { return defaulted_; }
  // Whether `key` came from the config class's defaults rather than the file.
  bool IsDefault(std::string_view key) const;
  // "'key' = value" plus " (the <model_type> default)" when the file did not set it: how error
  // messages name a value.
  std::string Describe(std::string_view key) const;
  // An error naming both keys of a pair that contradict each other: "label: 'hidden_size' = 50
  // is not divisible by 'num_attention_heads' = 4 (the bert default)".
  Status Contradiction(std::string_view a, std::string_view relation, std::string_view b) const;
  // The first of `keys` the config sets (the alias a value was read from), else the first.
  std::string KeyOf(std::initializer_list<std::string_view> keys) const;

 private:
  const nlohmann::json* Find(std::initializer_list<std::string_view> keys, std::string_view* found) const;
  nlohmann::json json_ = nlohmann::json::object();
  nlohmann::json defaulted_ = nlohmann::json::object();  // json_'s shape: true where a default was filled
  std::string label_;
};

}  // namespace accel
