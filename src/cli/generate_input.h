#pragma once
// What `accel generate` loads and parses: the model (folder, HF id, or .gguf file), prompt ids
// given on the command line, and the chat-templated prompt.
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "models/causal_lm.h"
#include "runtime/loaded_model.h"
#include "tokenizers/tokenizer.h"

namespace accel::cli {

struct GenerationModel {
  std::unique_ptr<LoadedModel> model;
  CausalLm* lm = nullptr;  // the model's generation interface
  std::string dir;         // where tokenizer files are looked for
  std::shared_ptr<GgufFile> gguf;  // set for .gguf models: their metadata carries the tokenizer
};

Result<std::unique_ptr<GenerationModel>> LoadGenerationModel(const std::string& spec, const std::string& device);
// "1,2,3" or "1,2;3,4,5" (one row per ';').
Result<std::vector<std::vector<int64_t>>> ParsePromptIds(const std::string& text);
// The model's tokenizer: the one embedded in a GGUF file (tokenizer.ggml.*) when it has one,
// else tokenizer.json / tokenizer.model in the model's folder.
Result<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const GenerationModel& gm);
// The model's chat_template (the GGUF's tokenizer.chat_template, else tokenizer_config.json)
// applied to one user message.
Result<std::string> RenderChatPrompt(const GenerationModel& gm, const std::string& user_message);

}  // namespace accel::cli
