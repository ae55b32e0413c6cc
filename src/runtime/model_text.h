#pragma once
// The text side of a loaded model: its tokenizer and chat template, wherever the model came
// from. A GGUF file carries them in its metadata (tokenizer.ggml.*, tokenizer.chat_template);
// a folder has tokenizer.json / tokenizer.model and tokenizer_config.json.
#include <memory>
#include <string>

#include "runtime/loaded_model.h"
#include "text/chat_template.h"
#include "tokenizers/tokenizer.h"

namespace accel {

Result<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const LoadedModel& model);
Result<text::ChatTemplate> LoadModelChatTemplate(const LoadedModel& model);

}  // namespace accel
