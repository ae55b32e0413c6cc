// The C API's generation: a prompt (text, chat or ids) through the model's generator, streaming
// (token, text) to the caller's callback, stopped by the callback or by accel_model_cancel.
#include <cstdlib>

#include "capi/c_api_inputs.h"
#include "capi/c_api_support.h"

using namespace accel;
using namespace accel::capi;

namespace {

Result<generation::GenerationOptions> ToOptions(const TextModel& text, const accel_generate_options* in) {
  generation::GenerationOptions o = text.DefaultGenerationOptions();
  accel_generate_options c;
  accel_generate_options_init(&c);
  if (in) {
    if (in->struct_size == 0 || in->struct_size > sizeof(accel_generate_options))
      return InvalidArgument("options.struct_size is not set (call accel_generate_options_init)");
    std::memcpy(&c, in, in->struct_size);  // fields a shorter (older) struct lacks keep their defaults
    c.struct_size = sizeof(c);
  }
  if (c.max_new_tokens < 0) return InvalidArgument("max_new_tokens is negative");
  o.max_new_tokens = c.max_new_tokens;
  o.sampling.temperature = c.temperature;
  o.sampling.top_p = c.top_p;
  o.sampling.top_k = c.top_k;
  o.sampling.repetition_penalty = c.repetition_penalty;
  o.sampling.seed = c.seed;
  ACCEL_RETURN_IF_ERROR(generation::ValidateSamplingParams(o.sampling));
  if (c.stop_count > 0 && !c.stop) return InvalidArgument("stop is NULL but stop_count is " + std::to_string(c.stop_count));
  for (size_t i = 0; i < c.stop_count; ++i) {
    if (!c.stop[i] || !*c.stop[i]) return InvalidArgument("stop string " + std::to_string(i) + " is NULL or empty");
    o.stop_strings.emplace_back(c.stop[i]);
  }
  return o;
}

// Runs the generation; fills `text` and `tokens` even when cancelled.
accel_status Run(accel_model* m, const std::vector<int64_t>& prompt, const generation::GenerationOptions& options,
                 accel_token_callback callback, void* user_data, std::string* text, std::vector<int64_t>* tokens) {
  bool cancelled = false;
  auto on_piece = [&](int64_t token, const std::string& piece) {
    if (m->cancel.load()) {
      cancelled = true;
      return false;
    }
    if (callback && !callback(token, piece.data(), piece.size(), user_data)) return false;
    return true;
  };
  m->cancel.store(false);
  m->generating.store(true);
  auto result = m->text->Generate(prompt, options, on_piece);
  m->generating.store(false);
  m->cancel.store(false);
  if (!result.ok()) return Fail(result.status());
  *text = result->rows[0].text;
  *tokens = result->rows[0].tokens;
  if (cancelled) return Fail(ACCEL_ERR_CANCELLED, "the generation was cancelled (accel_model_cancel)");
  return Ok();
}

accel_status GenerateFrom(const char* function, accel_model* model, const std::function<Result<std::vector<int64_t>>(TextModel&)>& prompt_ids,
                          const accel_generate_options* options, accel_token_callback callback, void* user_data,
                          std::string* text, std::vector<int64_t>* tokens) {
  accel_model* m = LiveModel(model, function);
  if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
  std::lock_guard<std::mutex> lock(m->mu);
  if (!m->text->lm()) return Fail(ACCEL_ERR_UNSUPPORTED, std::string(function) + ": this model does not generate text");
  auto o = ToOptions(*m->text, options);
  if (!o.ok()) return Fail(InvalidArgument(std::string(function) + ": " + o.status().message()));
  auto ids = prompt_ids(*m->text);
  if (!ids.ok()) return Fail(ids.status());
  if (ids->empty()) return Fail(ACCEL_ERR_INVALID_ARGUMENT, std::string(function) + ": the prompt has no tokens");
  return Run(m, *ids, *o, callback, user_data, text, tokens);
}

}  // namespace

extern "C" {

void accel_generate_options_init(accel_generate_options* options) {
  if (!options) return;
  *options = accel_generate_options{};
  options->struct_size = sizeof(accel_generate_options);
  options->max_new_tokens = 128;
  options->top_p = 1.0f;
  options->repetition_penalty = 1.0f;
}

accel_status accel_generate(accel_model* model, const char* prompt, const accel_generate_options* options,
                            accel_token_callback callback, void* user_data, char** text) {
  return Guard("accel_generate", [&]() -> accel_status {
    if (text) *text = nullptr;
    if (!prompt) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_generate: prompt must not be NULL");
    if (!IsValidUtf8(prompt)) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_generate: the prompt is not valid UTF-8");
    const bool chat = options && options->struct_size >= offsetof(accel_generate_options, chat) + sizeof(int) && options->chat;
    std::string out;
    std::vector<int64_t> tokens;
    accel_status s = GenerateFrom("accel_generate", model,
        [&](TextModel& t) { return chat ? t.ChatPromptIds({{"user", prompt}}) : t.PromptIds(prompt); },
        options, callback, user_data, &out, &tokens);
    if ((s == ACCEL_OK || s == ACCEL_ERR_CANCELLED) && text) {
      std::string error = accel_last_error();
      *text = CopyString(out);
      if (!*text) return Fail(ACCEL_ERR_OUT_OF_MEMORY, "accel_generate: out of memory");
      if (s != ACCEL_OK) Fail(s, error);
    }
    return s;
  });
}

accel_status accel_generate_ids(accel_model* model, const int64_t* prompt, size_t prompt_count,
                                const accel_generate_options* options, accel_token_callback callback, void* user_data,
                                int64_t** ids, size_t* count) {
  return Guard("accel_generate_ids", [&]() -> accel_status {
    if (ids) *ids = nullptr;
    if (count) *count = 0;
    if (!prompt && prompt_count) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_generate_ids: prompt must not be NULL");
    if ((ids == nullptr) != (count == nullptr)) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_generate_ids: give both ids and count, or neither");
    std::string out;
    std::vector<int64_t> tokens;
    accel_status s = GenerateFrom("accel_generate_ids", model,
        [&](TextModel& t) -> Result<std::vector<int64_t>> {
          const int64_t vocab = t.model().config().IntOr("vocab_size", 0);
          for (size_t i = 0; i < prompt_count; ++i)
            if (prompt[i] < 0 || (vocab > 0 && prompt[i] >= vocab))
              return InvalidArgument("accel_generate_ids: token id " + std::to_string(prompt[i]) + " is outside the vocabulary of " + std::to_string(vocab));
          return std::vector<int64_t>(prompt, prompt + prompt_count);
        },
        options, callback, user_data, &out, &tokens);
    if ((s == ACCEL_OK || s == ACCEL_ERR_CANCELLED) && ids) {
      auto* buf = static_cast<int64_t*>(std::malloc(std::max<size_t>(1, tokens.size()) * sizeof(int64_t)));
      if (!buf) return Fail(ACCEL_ERR_OUT_OF_MEMORY, "accel_generate_ids: out of memory");
      std::copy(tokens.begin(), tokens.end(), buf);
      *ids = buf;
      *count = tokens.size();
    }
    return s;
  });
}

accel_status accel_model_cancel(accel_model* model) {
  return Guard("accel_model_cancel", [&]() -> accel_status {
    // Not through LiveModel's lock order with the model's mutex: cancel must not wait for the run.
    accel_model* m = LiveModel(model, "accel_model_cancel");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if (m->generating.load()) m->cancel.store(true);
    return Ok();
  });
}

}  // extern "C"
