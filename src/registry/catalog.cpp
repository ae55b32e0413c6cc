#include "registry/catalog.h"

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "registry/catalog_data.h"

namespace accel::registry {

using Json = nlohmann::json;

const char* SupportName(Support s) {
  switch (s) {
    case Support::kSupported: return "supported";
    case Support::kPlanned: return "planned";
    case Support::kUnsupported: return "unsupported";
  }
  return "unsupported";
}

std::string NormalizeModelType(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '-') c = '_';
    else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {
Result<std::vector<std::string>> StringList(const Json& e, const char* key, const std::string& where, bool required) {
  std::vector<std::string> out;
  auto it = e.find(key);
  if (it == e.end()) {
    if (required) return Corrupt(where + ": missing '" + key + "'");
    return out;
  }
  if (!it->is_array()) return Corrupt(where + ": '" + key + "' must be a list of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return Corrupt(where + ": '" + key + "' must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::string> RequiredString(const Json& e, const char* key, const std::string& where) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_string() || it->get<std::string>().empty())
    return Corrupt(where + ": '" + key + "' must be a non-empty string");
  return it->get<std::string>();
}
}  // namespace

Result<ModelCatalog> ModelCatalog::Parse(std::string_view json_text, const std::string& label) {
  Json doc = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Corrupt(label + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array())
    return Corrupt(label + ": expected an object with a 'models' list");
  ModelCatalog cat;
  for (size_t i = 0; i < doc["models"].size(); ++i) {
    const Json& e = doc["models"][i];
    std::string where = label + ": models[" + std::to_string(i) + "]";
    if (!e.is_object()) return Corrupt(where + ": not an object");
    CatalogEntry entry;
    ACCEL_ASSIGN_OR_RETURN(entry.model_type, RequiredString(e, "model_type", where));
    where += " (" + entry.model_type + ")";
    ACCEL_ASSIGN_OR_RETURN(entry.family, RequiredString(e, "family", where));
    ACCEL_ASSIGN_OR_RETURN(entry.subfamily, RequiredString(e, "subfamily", where));
    ACCEL_ASSIGN_OR_RETURN(entry.tasks, StringList(e, "tasks", where, true));
    ACCEL_ASSIGN_OR_RETURN(entry.modalities, StringList(e, "modalities", where, true));
    ACCEL_ASSIGN_OR_RETURN(entry.aliases, StringList(e, "aliases", where, false));
    if (entry.tasks.empty() || entry.modalities.empty()) return Corrupt(where + ": needs at least one task and modality");
    auto tmpl = e.find("template");
    if (tmpl != e.end() && tmpl->is_string()) entry.template_name = tmpl->get<std::string>();
    else if (tmpl != e.end() && !tmpl->is_null()) return Corrupt(where + ": 'template' must be a string or null");
    ACCEL_ASSIGN_OR_RETURN(std::string support, RequiredString(e, "support", where));
    if (support == "supported") entry.support = Support::kSupported;
    else if (support == "planned") entry.support = Support::kPlanned;
    else if (support == "unsupported") entry.support = Support::kUnsupported;
    else return Corrupt(where + ": support '" + support + "' is not supported/planned/unsupported");
    // A type can only run (or be planned) through a template.
    if (entry.support != Support::kUnsupported && entry.template_name.empty())
      return Corrupt(where + ": support '" + support + "' needs a template");
    auto key = e.find("key_class");
    if (key != e.end()) {
      if (!key->is_boolean()) return Corrupt(where + ": 'key_class' must be true or false");
      entry.key_class = key->get<bool>();
    }
    size_t index = cat.entries_.size();
    std::vector<std::string> names = entry.aliases;
    names.push_back(entry.model_type);
    for (const auto& n : names) {
      if (!cat.by_name_.emplace(n, index).second) return Corrupt(where + ": name '" + n + "' listed twice");
      cat.by_normalized_.emplace(NormalizeModelType(n), index);
    }
    cat.entries_.push_back(std::move(entry));
  }
  return cat;
}

const ModelCatalog& ModelCatalog::Builtin() {
  static const ModelCatalog catalog = [] {
    auto parsed = Parse(kEmbeddedCatalogJson, "src/registry/catalog.json (built in)");
    if (!parsed.ok()) {
      // The build embeds a file the tests validate; reaching this is a build of a broken edit.
      std::fprintf(stderr, "accel: %s\n", parsed.status().message().c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return catalog;
}

const CatalogEntry* ModelCatalog::Find(std::string_view model_type) const {
  if (model_type.empty()) return nullptr;
  auto it = by_name_.find(std::string(model_type));
  if (it != by_name_.end()) return &entries_[it->second];
  auto nt = by_normalized_.find(NormalizeModelType(model_type));
  return nt == by_normalized_.end() ? nullptr : &entries_[nt->second];
}

}  // namespace accel::registry
