#include "formats/config_defaults.h"

#include <map>
#include <string>
#include <vector>

#include "formats/config_defaults_data.h"

namespace accel {

using Json = nlohmann::json;

namespace {

struct TypeDefaults {
  Json defaults = Json::object();
  Json sub_configs = Json::object();  // slot -> {"type": ..., "when_absent": {...}}
  Json aliases = Json::object();      // key -> [other names HF accepts for it]
};

// The table with every "like" chain resolved. The JSON is ours and checked by a test, so a
// malformed entry is a programmer error: it is skipped rather than reported at run time.
const std::map<std::string, TypeDefaults, std::less<>>& Table() {
  static const auto table = [] {
    std::map<std::string, TypeDefaults, std::less<>> out;
    Json doc = Json::parse(kEmbeddedConfigDefaultsJson, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("types") || !doc["types"].is_object()) return out;
    const Json& types = doc["types"];
    for (auto it = types.begin(); it != types.end(); ++it) {
      // Walk the like chain from the base down, so the more specific entry wins.
      std::vector<const Json*> chain;
      for (const Json* e = &it.value(); e && e->is_object() && chain.size() < 8;) {
        chain.push_back(e);
        auto like = e->find("like");
        e = like != e->end() && like->is_string() && types.contains(like->get<std::string>())
                ? &types[like->get<std::string>()]
                : nullptr;
      }
      TypeDefaults td;
      for (auto e = chain.rbegin(); e != chain.rend(); ++e) {
        if (auto d = (*e)->find("defaults"); d != (*e)->end() && d->is_object()) td.defaults.update(*d);
        if (auto s = (*e)->find("sub_configs"); s != (*e)->end() && s->is_object()) td.sub_configs.update(*s);
        if (auto a = (*e)->find("aliases"); a != (*e)->end() && a->is_object()) td.aliases.update(*a);
      }
      out[it.key()] = std::move(td);
    }
    return out;
  }();
  return table;
}

const TypeDefaults* Find(std::string_view type) {
  auto it = Table().find(type);
  return it == Table().end() ? nullptr : &it->second;
}

void Fill(Json& config, std::string_view fallback_type, Json& filled, int depth) {
  if (!config.is_object() || depth > 4) return;
  std::string type = fallback_type.empty() ? "" : std::string(fallback_type);
  if (auto mt = config.find("model_type"); mt != config.end() && mt->is_string()) type = mt->get<std::string>();
  else if (!type.empty()) {
    config["model_type"] = type;  // HF's to_dict would write it
    filled["model_type"] = true;
  }
  const TypeDefaults* td = Find(type);
  if (td) {
    for (auto it = td->defaults.begin(); it != td->defaults.end(); ++it) {
      if (config.contains(it.key())) continue;
      // A file that spells the key another way HF accepts (GPT-2's hidden_size for n_embd) sets it.
      std::string alias;
      if (auto a = td->aliases.find(it.key()); a != td->aliases.end() && a->is_array())
        for (const Json& name : *a)
          if (name.is_string() && config.contains(name.get<std::string>()) && !config[name.get<std::string>()].is_null()) {
            alias = name.get<std::string>();
            break;
          }
      config[it.key()] = alias.empty() ? it.value() : config[alias];
      filled[it.key()] = alias.empty() ? Json(true) : Json(alias);
    }
  }
  // Nested configs: the slots the type declares (created when absent, as HF does), then any other
  // nested object that names a model_type the table knows (backbone_config, encoder, ...).
  if (td) {
    for (auto it = td->sub_configs.begin(); it != td->sub_configs.end(); ++it) {
      if (!it.value().is_object()) continue;
      const std::string sub_type = it.value().value("type", "");
      auto slot = config.find(it.key());
      Json sub_filled = Json::object();
      if (slot == config.end() || slot->is_null()) {
        Json created = Json::object();
        if (auto wa = it.value().find("when_absent"); wa != it.value().end() && wa->is_object()) created = *wa;
        for (auto k = created.begin(); k != created.end(); ++k) sub_filled[k.key()] = true;
        config[it.key()] = std::move(created);
      } else if (!slot->is_object()) {
        continue;  // not ours to judge here: CheckSchema and the readers report it
      }
      Fill(config[it.key()], sub_type, sub_filled, depth + 1);
      if (!sub_filled.empty()) filled[it.key()] = std::move(sub_filled);
    }
  }
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (!it->is_object() || (td && td->sub_configs.contains(it.key()))) continue;
    auto mt = it->find("model_type");
    if (mt == it->end() || !mt->is_string() || !Find(mt->get<std::string>())) continue;
    Json sub_filled = Json::object();
    Fill(*it, "", sub_filled, depth + 1);
    if (!sub_filled.empty()) filled[it.key()] = std::move(sub_filled);
  }
}

}  // namespace

const Json* ConfigClassDefaults(std::string_view model_type) {
  const TypeDefaults* td = Find(model_type);
  return td ? &td->defaults : nullptr;
}

Json ApplyConfigClassDefaults(Json& config) {
  Json filled = Json::object();
  Fill(config, "", filled, 0);
  return filled;
}

}  // namespace accel
