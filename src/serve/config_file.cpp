#include "serve/config_file.h"

#include <sstream>

#include <nlohmann/json.hpp>
#include <toml.hpp>

#include "core/collapse_blanks.h"
#include "core/json_depth.h"
#include "core/mapped_file.h"

namespace accel::serve {
namespace {

using json = nlohmann::json;

// A serve config nests a few levels (routes.NAME[i].field); toml11's parser recurses per
// nested array or inline table, so deeper text is refused before it is parsed.
constexpr int kMaxTomlNesting = 32;

bool NestsDeeperThan(const std::string& text, int limit) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      depth = depth > 0 ? depth - 1 : 0;
    }
  }
  return false;
}

json ToJson(const toml::value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return v.as_boolean();
    case toml::value_t::integer: return v.as_integer();
    case toml::value_t::floating: return v.as_floating();
    case toml::value_t::string: return v.as_string().str;
    case toml::value_t::array: {
      json a = json::array();
      for (const auto& e : v.as_array()) a.push_back(ToJson(e));
      return a;
    }
    case toml::value_t::table: {
      json o = json::object();
      for (const auto& [k, e] : v.as_table()) o[k] = ToJson(e);
      return o;
    }
    default: {  // dates and times: as TOML writes them
      std::ostringstream s;
      s << v;
      return s.str();
    }
  }
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Result<std::string> ServeConfigAsJson(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return IoError("serve: cannot read --config " + path + ": " + text.status().message());
  if (!EndsWith(path, ".toml")) return *text;
  if (NestsDeeperThan(*text, kMaxTomlNesting)) {
    return InvalidArgument(path + ": nested more than " + std::to_string(kMaxTomlNesting) + " levels deep");
  }
  try {
    std::istringstream in(*text);
    const toml::value doc = toml::parse(in, path);
    json j = ToJson(doc);
    if (JsonDeeperThan(j)) return InvalidArgument(path + ": nested too deep");
    return j.dump();
  } catch (const std::exception& e) {
    // toml11's messages span several lines (a source excerpt with a caret): one line here.
    return InvalidArgument(path + ": not valid TOML: " + CollapseBlanks(e.what(), " \t\r\n"));
  }
}

Status ApplyServeConfig(const std::string& json_text, const std::string& file_name, const std::set<std::string>& given,
                        ServeOptions* o) {
  const json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(file_name + ": not a JSON object");
  auto where = [&](const std::string& key) { return file_name + ": " + key; };
  auto integer = [&](const std::string& key, int64_t lo, int64_t hi) -> Result<int64_t> {
    const json& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      return InvalidArgument(where(key) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v.get<int64_t>();
  };
  auto number = [&](const std::string& key, double lo) -> Result<double> {
    const json& v = j[key];
    if (!v.is_number() || !(v.get<double>() >= lo)) return InvalidArgument(where(key) + " must be a number >= " + std::to_string(lo));
    return v.get<double>();
  };
  auto text = [&](const std::string& key) -> Result<std::string> {
    if (!j[key].is_string()) return InvalidArgument(where(key) + " must be a string");
    return j[key].get<std::string>();
  };
  auto texts = [&](const std::string& key) -> Result<std::vector<std::string>> {
    const json& v = j[key];
    std::vector<std::string> out;
    if (!v.is_array()) return InvalidArgument(where(key) + " must be an array of strings");
    for (const auto& e : v) {
      if (!e.is_string()) return InvalidArgument(where(key) + " must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "routes") continue;
    const bool keep = given.count(key) != 0;
    if (key == "models") {
      ACCEL_ASSIGN_OR_RETURN(auto models, texts(key));
      o->models.insert(o->models.begin(), models.begin(), models.end());
    } else if (key == "api_keys") {
      ACCEL_ASSIGN_OR_RETURN(auto keys, texts(key));
      o->api_keys.insert(o->api_keys.end(), keys.begin(), keys.end());
    } else if (key == "host" || key == "device" || key == "memory_limit" || key == "cors_origin") {
      ACCEL_ASSIGN_OR_RETURN(std::string v, text(key));
      if (keep) continue;
      (key == "host" ? o->host : key == "device" ? o->device : key == "memory_limit" ? o->memory_limit : o->cors_origin) = v;
    } else if (key == "kv_cache") {
      ACCEL_ASSIGN_OR_RETURN(std::string v, text(key));
      if (v != "f32" && v != "q8_0" && v != "q4_0") return InvalidArgument(where(key) + " must be f32, q8_0 or q4_0");
      if (!keep) o->kv_cache = v;
    } else if (key == "port") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 0, 65535));
      if (!keep) o->port = static_cast<int>(v);
    } else if (key == "max_queue") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 0, 1 << 20));
      if (!keep) o->max_queue = static_cast<int>(v);
    } else if (key == "parallel") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 1, 1024));
      if (!keep) o->parallel = static_cast<int>(v);
    } else if (key == "slot_context") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 2, 1 << 24));
      if (!keep) o->slot_context = v;
    } else if (key == "http_threads") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 2, 4096));
      if (!keep) o->http_threads = static_cast<int>(v);
    } else if (key == "max_embed_batch") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 1, 4096));
      if (!keep) o->max_embed_batch = static_cast<size_t>(v);
    } else if (key == "max_tokens") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 1, int64_t{1} << 31));
      if (!keep) o->max_tokens = v;
    } else if (key == "max_body") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 1, int64_t{1} << 40));
      if (!keep) o->max_body_bytes = static_cast<size_t>(v);
    } else if (key == "read_timeout") {
      ACCEL_ASSIGN_OR_RETURN(int64_t v, integer(key, 1, 86400));
      if (!keep) o->read_timeout_s = static_cast<int>(v);
    } else if (key == "key_rate_limit") {
      ACCEL_ASSIGN_OR_RETURN(double v, number(key, 0));
      if (!keep) o->key_rate_per_minute = v;
    } else {
      return InvalidArgument(where(key) + " is not a setting (host, port, models, api_keys, device, memory_limit, max_queue, "
                             "parallel, slot_context, kv_cache, max_tokens, max_body, key_rate_limit, max_embed_batch, http_threads, read_timeout, cors_origin, routes)");
    }
  }
  return Status::Ok();
}

}  // namespace accel::serve
