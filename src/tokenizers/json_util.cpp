// JSON field access for the tokenizer.json factories: every wrong type or missing field
// becomes a JsonError naming the field, turned into a Status by Tokenizer::Load.
#include "tokenizers/pipeline.h"

namespace accel::tok {

void ThrowJson(const std::string& message) { throw JsonError{message}; }

const json& Field(const json& j, const char* key) {
  if (!j.is_object()) ThrowJson(std::string("expected an object holding '") + key + "'");
  auto it = j.find(key);
  if (it == j.end()) ThrowJson(std::string("missing field '") + key + "'");
  return *it;
}

std::string GetString(const json& j, const char* key, const std::string& def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_string()) ThrowJson(std::string("field '") + key + "' must be a string");
  return it->get<std::string>();
}

bool GetBool(const json& j, const char* key, bool def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) ThrowJson(std::string("field '") + key + "' must be a boolean");
  return it->get<bool>();
}

int64_t GetInt(const json& j, const char* key, int64_t def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_number_integer()) ThrowJson(std::string("field '") + key + "' must be an integer");
  return it->get<int64_t>();
}

std::string TypeOf(const json& j, const char* what) {
  if (!j.is_object()) ThrowJson(std::string(what) + " must be an object");
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) ThrowJson(std::string(what) + " has no string 'type'");
  return it->get<std::string>();
}

std::shared_ptr<const Regex> ParsePattern(const json& j) {
  if (j.is_string()) {  // some files give a bare string
    auto re = Regex::Literal(j.get<std::string>());
    if (!re.ok()) ThrowJson(re.status().message());
    return re.value();
  }
  if (!j.is_object()) ThrowJson("pattern must be {\"String\": ...} or {\"Regex\": ...}");
  if (auto it = j.find("String"); it != j.end()) {
    if (!it->is_string()) ThrowJson("pattern String must be a string");
    auto re = Regex::Literal(it->get<std::string>());
    if (!re.ok()) ThrowJson(re.status().message());
    return re.value();
  }
  if (auto it = j.find("Regex"); it != j.end()) {
    if (!it->is_string()) ThrowJson("pattern Regex must be a string");
    auto re = Regex::Compile(it->get<std::string>());
    if (!re.ok()) ThrowJson(re.status().message());
    return re.value();
  }
  ThrowJson("pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

const char32_t* ByteToChar() {
  static const auto* table = [] {
    auto* t = new char32_t[256];
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
    }
    return t;
  }();
  return table;
}

int CharToByte(char32_t c) {
  static const auto* rev = [] {
    auto* r = new int[324];
    for (int i = 0; i < 324; ++i) r[i] = -1;
    const char32_t* t = ByteToChar();
    for (int b = 0; b < 256; ++b) r[t[b]] = b;
    return r;
  }();
  return c < 324 ? rev[c] : -1;
}

}  // namespace accel::tok
