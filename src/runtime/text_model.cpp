#include "runtime/text_model.h"

#include "runtime/model_text.h"
#include "runtime/text_embedding.h"

namespace accel {

Result<std::unique_ptr<TextModel>> TextModel::Load(const std::string& spec, const LoadOptions& options) {
  auto m = std::unique_ptr<TextModel>(new TextModel());
  ACCEL_ASSIGN_OR_RETURN(m->model_, LoadedModel::Load(spec, options));
  m->lm_ = m->model_->causal_lm();
  // A tokenizer is optional: without one the model takes and returns token ids only.
  if (auto tok = LoadModelTokenizer(*m->model_); tok.ok()) m->tokenizer_ = std::move(*tok);
  if (m->lm_) {
    if (auto t = LoadModelChatTemplate(*m->model_); t.ok()) m->chat_template_ = std::move(*t);
    m->generator_ = std::make_unique<generation::Generator>(*m->lm_, m->model_->backend());
  } else {
    m->pooling_ = PoolingForModelDir(m->model_->dir());
  }
  return m;
}

int64_t TextModel::context_length() const {
  if (lm_) return lm_->max_positions();
  return model_->config().IntOr("max_position_embeddings", 512);
}

Result<std::vector<int64_t>> TextModel::PromptIds(const std::string& prompt) {
  if (!tokenizer_) return InvalidArgument("this model has no tokenizer (tokenizer.json or tokenizer.model): give token ids");
  ACCEL_ASSIGN_OR_RETURN(Encoding enc, tokenizer_->Encode(prompt, /*add_special_tokens=*/true));
  return std::move(enc.ids);
}

Result<std::vector<int64_t>> TextModel::ChatPromptIds(const std::vector<text::ChatMessage>& messages) {
  if (!tokenizer_) return InvalidArgument("this model has no tokenizer (tokenizer.json or tokenizer.model): give token ids");
  if (!chat_template_) return InvalidArgument("this model has no chat template (tokenizer_config.json chat_template)");
  ACCEL_ASSIGN_OR_RETURN(std::string text, text::RenderChat(*chat_template_, messages, /*add_generation_prompt=*/true));
  ACCEL_ASSIGN_OR_RETURN(Encoding enc, tokenizer_->Encode(text, /*add_special_tokens=*/false));
  return std::move(enc.ids);
}

generation::GenerationOptions TextModel::DefaultGenerationOptions() const {
  generation::GenerationOptions o;
  if (lm_) o.eos_token_ids = lm_->eos_token_ids();
  if (!o.eos_token_ids.empty()) o.pad_token_id = o.eos_token_ids.front();
  return o;
}

generation::TextDecoder TextModel::TextDecoderFn() {
  Tokenizer* tok = tokenizer_.get();
  if (!tok) return nullptr;
  return [tok](const std::vector<int64_t>& ids) {
    auto t = tok->Decode(ids, true);
    return t.ok() ? *t : std::string();
  };
}

Result<generation::GenerationResult> TextModel::Generate(const std::vector<int64_t>& prompt,
                                                         const generation::GenerationOptions& options,
                                                         const PieceCallback& on_piece) {
  if (!lm_) return Unsupported("this model does not generate text (it is not a decoder)");
  generation::TextDecoder decode = TextDecoderFn();
  if (!decode && !options.stop_strings.empty()) return InvalidArgument("stop strings need a model with a tokenizer");
  // The generator reports a token (on_token) before the text it made showable (on_text); a
  // token goes out with its text when the next token arrives, or at the end.
  bool alive = true;
  std::string pending;
  int64_t last_token = -1;
  bool have_token = false;
  auto flush = [&]() {
    if (!have_token) return;
    if (alive && on_piece && !on_piece(last_token, pending)) alive = false;
    pending.clear();
    have_token = false;
  };
  auto on_token = [&](int64_t, int64_t token) {
    flush();
    last_token = token;
    have_token = true;
    return alive;
  };
  auto on_text = [&](int64_t, const std::string& piece) { pending += piece; };
  auto result = generator_->Run({prompt}, options, on_token, decode,
                                decode ? generation::TextCallback(on_text) : nullptr);
  if (!result.ok()) return result.status();
  flush();  // the last token's text, or the tail held back for stop strings
  if (!alive) result->rows[0].finish_reason = "callback";
  return result;
}

Result<Tensor> TextModel::Embed(const std::vector<std::string>& texts, bool normalize) {
  if (lm_) return Unsupported("this model generates text; embeddings need an encoder model");
  if (!tokenizer_) return InvalidArgument("this model has no tokenizer (tokenizer.json or tokenizer.model): embed token ids instead");
  TextEmbeddingOptions eo;
  eo.pooling = pooling_;
  eo.normalize = normalize;
  return EmbedTexts(*model_, *tokenizer_, texts, eo);
}

}  // namespace accel
