#include "text/chat_template.h"

#include "core/bounded_read.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "text/jinja.h"

namespace accel::text {

namespace {
// bos_token/eos_token are a string or an AddedToken object {"content": ...}.
std::string TokenString(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return "";
}
}  // namespace

Result<ChatTemplate> ChatTemplateFromTokenizerConfig(const std::string& json_text, const std::string& label) {
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupt(label + ": not a JSON object");
  ChatTemplate t;
  auto it = doc.find("chat_template");
  if (it == doc.end() || it->is_null()) return NotFound(label + ": has no chat_template");
  if (it->is_string()) {
    t.source = it->get<std::string>();
  } else if (it->is_array()) {
    for (const auto& named : *it) {
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template") && named["template"].is_string()) {
        t.source = named["template"].get<std::string>();
      }
    }
    if (t.source.empty()) return NotFound(label + ": chat_template list has no 'default' template");
  } else {
    return Corrupt(label + ": chat_template must be a string or a list");
  }
  t.bos_token = TokenString(doc, "bos_token");
  t.eos_token = TokenString(doc, "eos_token");
  return t;
}

Result<ChatTemplate> LoadChatTemplate(const std::string& model_dir) {
  const std::string path = (std::filesystem::path(model_dir) / "tokenizer_config.json").string();
  auto text = ReadRegularFile(path, 64 * kMiB, "tokenizer_config.json");
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return NotFound(path + ": missing (the chat template lives there)");
    return text.status();
  }
  return ChatTemplateFromTokenizerConfig(*text, path);
}

Result<std::string> RenderChat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  ACCEL_ASSIGN_OR_RETURN(JinjaTemplate tmpl, JinjaTemplate::Parse(t.source));
  nlohmann::json ctx = nlohmann::json::object();
  ctx["messages"] = nlohmann::json::array();
  for (const auto& m : messages) ctx["messages"].push_back({{"role", m.role}, {"content", m.content}});
  ctx["add_generation_prompt"] = add_generation_prompt;
  ctx["bos_token"] = t.bos_token;
  ctx["eos_token"] = t.eos_token;
  return tmpl.Render(ctx);
}

}  // namespace accel::text
