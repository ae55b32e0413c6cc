#pragma once
// A model's chat template (tokenizer_config.json's `chat_template`, with its bos/eos token
// strings) applied to a conversation, as transformers' apply_chat_template renders it.
#include <string>
#include <vector>

#include "core/status.h"

namespace accel::text {

struct ChatMessage {
  std::string role, content;
};

struct ChatTemplate {
  std::string source;
  std::string bos_token, eos_token;
};

// Reads tokenizer_config.json from `model_dir`; a list of named templates picks "default".
Result<ChatTemplate> LoadChatTemplate(const std::string& model_dir);
Result<ChatTemplate> ChatTemplateFromTokenizerConfig(const std::string& json_text, const std::string& label);

Result<std::string> RenderChat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace accel::text
