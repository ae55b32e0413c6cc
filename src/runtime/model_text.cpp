#include "runtime/model_text.h"

#include "formats/gguf_tokenizer.h"

namespace accel {

Result<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const LoadedModel& model) {
  if (model.gguf() && model.gguf()->metadata().contains("tokenizer.ggml.model")) return TokenizerFromGguf(*model.gguf());
  return Tokenizer::Load(model.dir());
}

Result<text::ChatTemplate> LoadModelChatTemplate(const LoadedModel& model) {
  if (model.gguf()) {
    ACCEL_ASSIGN_OR_RETURN(std::optional<text::ChatTemplate> embedded, ChatTemplateFromGguf(*model.gguf()));
    if (embedded) return std::move(*embedded);
  }
  return text::LoadChatTemplate(model.dir());
}

}  // namespace accel
