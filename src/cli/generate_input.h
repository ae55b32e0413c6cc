#pragma once
// What `accel generate` loads and parses: the model (folder, HF id, or .gguf file), prompt ids
// given on the command line, and the chat-templated prompt.
#include <memory>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "runtime/loaded_model.h"

namespace accel::cli {

struct GenerationModel {
  std::unique_ptr<LoadedModel> model;
  CausalLm* lm = nullptr;  // the model's generation interface
  std::string dir;         // where tokenizer files are looked for
};

Result<std::unique_ptr<GenerationModel>> LoadGenerationModel(const std::string& spec, const std::string& device);
// "1,2,3" or "1,2;3,4,5" (one row per ';').
Result<std::vector<std::vector<int64_t>>> ParsePromptIds(const std::string& text);
// The model's chat_template (tokenizer_config.json) applied to one user message.
Result<std::string> RenderChatPrompt(const std::string& model_dir, const std::string& user_message);

}  // namespace accel::cli
