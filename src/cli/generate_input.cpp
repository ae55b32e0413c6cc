#include "cli/generate_input.h"

#include <filesystem>
#include <sstream>

#include "formats/gguf_model.h"
#include "formats/gguf_tokenizer.h"
#include "text/chat_template.h"

namespace accel::cli {

Result<std::unique_ptr<GenerationModel>> LoadGenerationModel(const std::string& spec, const std::string& device) {
  auto gm = std::make_unique<GenerationModel>();
  LoadOptions options;
  options.device = device;
  const bool gguf = spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0;
  if (gguf) {
    ACCEL_ASSIGN_OR_RETURN(auto file, GgufFile::Open(spec));
    ACCEL_ASSIGN_OR_RETURN(GgufModelParts parts, GgufToHf(*file));
    ACCEL_ASSIGN_OR_RETURN(gm->model, LoadedModel::FromParts(std::move(parts.config), std::move(parts.weights), options));
    gm->dir = std::filesystem::path(spec).parent_path().string();  // tokenizer files beside the .gguf
    gm->gguf = std::move(file);
  } else {
    ACCEL_ASSIGN_OR_RETURN(gm->model, LoadedModel::Load(spec, options));
    gm->dir = gm->model->dir();
  }
  gm->lm = dynamic_cast<CausalLm*>(&gm->model->model());
  if (!gm->lm) return Unsupported(gm->model->model().architecture() + " is not a decoder-only language model");
  return gm;
}

Result<std::vector<std::vector<int64_t>>> ParsePromptIds(const std::string& text) {
  std::vector<std::vector<int64_t>> rows(1);
  std::string number;
  auto flush = [&]() -> Status {
    if (number.empty()) return InvalidArgument("--prompt-ids: empty id in '" + text + "'");
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(number, &used);
    } catch (...) {
      used = 0;
    }
    if (used != number.size() || v < 0) return InvalidArgument("--prompt-ids: '" + number + "' is not a token id");
    rows.back().push_back(v);
    number.clear();
    return Status::Ok();
  };
  for (char c : text) {
    if (c == ' ') continue;
    if (c == ',' || c == ';') {
      ACCEL_RETURN_IF_ERROR(flush());
      if (c == ';') rows.emplace_back();
    } else {
      number += c;
    }
  }
  ACCEL_RETURN_IF_ERROR(flush());
  return rows;
}

Result<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const GenerationModel& gm) {
  if (gm.gguf && gm.gguf->metadata().contains("tokenizer.ggml.model")) return TokenizerFromGguf(*gm.gguf);
  return Tokenizer::Load(gm.dir);
}

Result<std::string> RenderChatPrompt(const GenerationModel& gm, const std::string& user_message) {
  std::optional<text::ChatTemplate> embedded;
  if (gm.gguf) {
    ACCEL_ASSIGN_OR_RETURN(embedded, ChatTemplateFromGguf(*gm.gguf));
  }
  text::ChatTemplate t;
  if (embedded) {
    t = std::move(*embedded);
  } else {
    ACCEL_ASSIGN_OR_RETURN(t, text::LoadChatTemplate(gm.dir));
  }
  return text::RenderChat(t, {{"user", user_message}}, /*add_generation_prompt=*/true);
}

}  // namespace accel::cli
