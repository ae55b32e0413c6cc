#include "serve/config_file.h"

#include <sstream>

#include <nlohmann/json.hpp>
#include <toml.hpp>

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

// toml11's messages span several lines (a source excerpt with a caret): one line here.
std::string OneLine(std::string message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
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
    return InvalidArgument(path + ": not valid TOML: " + OneLine(e.what()));
  }
}

}  // namespace accel::serve
