#pragma once
// A model together with its text side: the loaded model, its tokenizer and chat template where
// it has them, how its sentence embeddings pool, and a generator for decoders. What a program
// that embeds accel holds per model: `accel serve`, the C API and the Python module.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"
#include "runtime/sentence_embedding.h"
#include "text/chat_template.h"
#include "tokenizers/tokenizer.h"

namespace accel {

class TextModel {
 public:
  // `spec`: a model folder, an HF id in the local cache, or a .gguf file.
  static Result<std::unique_ptr<TextModel>> Load(const std::string& spec, const LoadOptions& options);

  LoadedModel& model() { return *model_; }
  const LoadedModel& model() const { return *model_; }
  CausalLm* lm() { return lm_; }                       // decoders only
  Tokenizer* tokenizer() { return tokenizer_.get(); }  // null when the model has none (ids only)
  const std::optional<text::ChatTemplate>& chat_template() const { return chat_template_; }
  Pooling pooling() const { return pooling_; }
  generation::Generator* generator() { return generator_.get(); }  // decoders only
  // Tokens the model attends to at once (the KV-cache limit of a decoder).
  int64_t context_length() const;

  // Prompt ids of a text (special tokens as the tokenizer adds them), or of a conversation
  // rendered with the chat template (which writes BOS itself). Needs a tokenizer.
  Result<std::vector<int64_t>> PromptIds(const std::string& prompt);
  Result<std::vector<int64_t>> ChatPromptIds(const std::vector<text::ChatMessage>& messages);

  // Sampling defaults plus the model's end-of-sequence ids (and the first as padding).
  generation::GenerationOptions DefaultGenerationOptions() const;
  // A decoder for Generator::Run that turns a row's tokens into text; empty without a tokenizer.
  generation::TextDecoder TextDecoderFn();
  // Called once per generated token with the text that became showable with it (empty without
  // a tokenizer, or while a stop string may still be forming); return false to stop.
  using PieceCallback = std::function<bool(int64_t token, const std::string& text)>;
  // One prompt through the generator, streaming (token, text) pieces. Stop strings need a
  // tokenizer. A row stopped by the callback ends with finish_reason "callback".
  Result<generation::GenerationResult> Generate(const std::vector<int64_t>& prompt,
                                                const generation::GenerationOptions& options,
                                                const PieceCallback& on_piece);
  // [texts.size(), hidden] f32 sentence embeddings; needs an encoder with a tokenizer.
  Result<Tensor> Embed(const std::vector<std::string>& texts, bool normalize);

 private:
  TextModel() = default;
  std::unique_ptr<LoadedModel> model_;
  CausalLm* lm_ = nullptr;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::optional<text::ChatTemplate> chat_template_;
  Pooling pooling_ = Pooling::kMean;
  std::unique_ptr<generation::Generator> generator_;
};

}  // namespace accel
