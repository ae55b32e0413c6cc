// accel generate: text (or token ids) in, streamed tokens out, one timings line at the end.
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/load_progress.h"
#include "placement/admission.h"
#include "runtime/generation/generator.h"
#include "runtime/image_text_pipeline.h"
#include "runtime/loaded_model.h"
#include "runtime/model_text.h"
#include "text/chat_template.h"
#include "tokenizers/tokenizer.h"

namespace accel::cli {
namespace {

// Large enough never to bind before the context does, small enough not to overflow prompt + n.
constexpr int64_t kNoTokenLimit = int64_t{1} << 40;

struct GenerateArgs {
  std::string model, prompt, prompt_ids, image, device = "auto";
  int64_t max_tokens = 128, top_k = 0, max_context = 0;
  std::string kv_cache = "f32";
  std::string memory_limit;
  float temperature = 0.0f, top_p = 1.0f, min_p = 0.0f, repetition_penalty = 1.0f, presence = 0.0f, frequency = 0.0f;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool chat = false, json = false, ignore_eos = false;
};

std::string DecodeOrEmpty(const Tokenizer& codec, const std::vector<int64_t>& ids, bool skip_special) {
  auto text = codec.Decode(ids, skip_special);
  return text.ok() ? *text : std::string();
}

int RunGenerate(const GenerateArgs& a) {
  if (Status fits = AdmitModel({a.model, a.memory_limit, 1, a.max_context}); !fits.ok()) return ReportError(fits);
  LoadOptions lo;
  lo.device = a.device;
  auto loaded = LoadModelShowingProgress(a.model, lo);
  if (!loaded.ok()) return ReportError(loaded.status());
  LoadedModel& model = **loaded;
  CausalLm* lm = model.causal_lm();  // a vision-language model's language model for text alone
  auto* vl = dynamic_cast<ImageTextLm*>(&model.model());
  if (!lm) return ReportError(Unsupported(model.model().architecture() + " is not a decoder-only language model"));
  if (!a.image.empty() && !vl) return ReportError(InvalidArgument(model.model().architecture() + " does not take an --image"));

  std::unique_ptr<Tokenizer> codec;
  std::vector<std::vector<int64_t>> prompts;
  if (!a.prompt_ids.empty()) {
    auto ids = ParseIdRows(a.prompt_ids, "--prompt-ids");
    if (!ids.ok()) return ReportError(ids.status());
    prompts = *ids;
    auto c = LoadModelTokenizer(model);  // optional here: only used to show text
    if (c.ok()) codec = std::move(*c);
  } else {
    if (a.prompt.empty()) return ReportError(InvalidArgument("give a prompt (-p TEXT, or TEXT) or --prompt-ids"));
    auto c = LoadModelTokenizer(model);
    if (!c.ok()) return ReportError(c.status());
    codec = std::move(*c);
    std::string text = a.prompt;
    bool add_special = true;
    if (a.chat) {
      auto tmpl = LoadModelChatTemplate(model);
      if (!tmpl.ok()) return ReportError(tmpl.status());
      auto rendered = text::RenderChat(*tmpl, {{"user", a.prompt}}, /*add_generation_prompt=*/true);
      if (!rendered.ok()) return ReportError(rendered.status());
      text = *rendered;
      add_special = false;  // the template writes BOS itself
    }
    auto ids = codec->Encode(text, add_special);
    if (!ids.ok()) return ReportError(ids.status());
    prompts.push_back(ids->ids);
  }

  // --image: the prompt's "<image>" placeholder (added after BOS when absent) becomes the
  // model's image tokens, and the prefill carries the image.
  std::unique_ptr<runtime::ImagePromptLm> image_lm;
  if (!a.image.empty()) {
    if (prompts.size() != 1) return ReportError(InvalidArgument("--image takes one prompt"));
    auto image = runtime::PrepareImage(model, a.image);
    if (!image.ok()) return ReportError(image.status());
    auto count = vl->ImageTokenCount(image->height, image->width);
    if (!count.ok()) return ReportError(count.status());
    const int64_t bos = model.config().Sub("text_config").IntOr("bos_token_id", 1);
    auto expanded = runtime::ExpandImageTokens(prompts[0], vl->image_token_id(), *count, bos);
    if (!expanded.ok()) return ReportError(expanded.status());
    prompts[0] = std::move(*expanded);
    image_lm = std::make_unique<runtime::ImagePromptLm>(*vl, std::move(image->tensors));
    lm = image_lm.get();
  }

  generation::GenerationOptions o;
  // -n -1: no count limit; generation ends at EOS, a stop string or the context limit.
  o.max_new_tokens = a.max_tokens < 0 ? kNoTokenLimit : a.max_tokens;
  o.sampling.temperature = a.temperature;
  o.sampling.top_k = a.top_k;
  o.sampling.top_p = a.top_p;
  o.sampling.min_p = a.min_p;
  o.sampling.repetition_penalty = a.repetition_penalty;
  o.sampling.presence_penalty = a.presence;
  o.sampling.frequency_penalty = a.frequency;
  o.sampling.seed = a.seed;
  o.stop_strings = a.stop;
  o.max_context = a.max_context;
  auto kv_dtype = decoder::KvCache::ParseDType(a.kv_cache);
  if (!kv_dtype.ok()) return ReportError(kv_dtype.status());
  o.kv_cache_dtype = *kv_dtype;
  if (!a.ignore_eos) o.eos_token_ids = lm->eos_token_ids();
  if (!o.eos_token_ids.empty()) o.pad_token_id = o.eos_token_ids.front();

  const bool stream = !a.json && prompts.size() == 1;
  std::vector<size_t> count(prompts.size(), 0);
  // Without a tokenizer the stream is token ids; with one it is text, which the generator
  // releases only once it cannot turn into a stop string.
  auto on_token = [&](int64_t row, int64_t token) {
    if (stream && !codec) {
      std::printf("%s%lld", count[row]++ ? " " : "", static_cast<long long>(token));
      std::fflush(stdout);
    }
    return true;
  };
  generation::TextDecoder decode;
  if (codec) {
    decode = [&](const std::vector<int64_t>& ids) { return DecodeOrEmpty(*codec, ids, true); };
  }
  auto on_text = [&](int64_t, const std::string& piece) {
    if (!stream) return;
    std::fputs(piece.c_str(), stdout);
    std::fflush(stdout);
  };
  generation::Generator gen(*lm, model.backend());
  auto r = gen.Run(prompts, o, on_token, decode, on_text);
  if (!r.ok()) {
    if (stream) std::printf("\n");
    return ReportError(r.status());
  }
  const double prompt_tps = r->prefill_ms > 0 ? r->prompt_tokens / (r->prefill_ms / 1000.0) : 0;
  const int64_t decode_tokens = r->generated_tokens - static_cast<int64_t>(prompts.size());
  const double gen_tps = r->decode_ms > 0 && decode_tokens > 0 ? decode_tokens / (r->decode_ms / 1000.0) : 0;
  if (a.json) {
    nlohmann::json out;
    for (size_t b = 0; b < prompts.size(); ++b) {
      nlohmann::json row;
      row["prompt_ids"] = prompts[b];
      row["ids"] = r->rows[b].tokens;
      row["finish_reason"] = r->rows[b].finish_reason;
      if (codec) row["text"] = r->rows[b].text;
      out["outputs"].push_back(row);
    }
    out["timings"] = {{"prompt_tokens", r->prompt_tokens}, {"generated_tokens", r->generated_tokens},
                      {"prefill_ms", r->prefill_ms}, {"ttft_ms", r->ttft_ms}, {"decode_ms", r->decode_ms},
                      {"prompt_tokens_per_s", prompt_tps}, {"generated_tokens_per_s", gen_tps},
                      {"kv_cache_bytes", r->kv_cache_bytes}, {"kv_cache_type", a.kv_cache},
                      {"kv_cache_capacity", r->kv_cache_capacity}};
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  if (!stream) {
    for (size_t b = 0; b < prompts.size(); ++b) {
      std::ostringstream line;
      for (size_t i = 0; i < r->rows[b].tokens.size(); ++i) line << (i ? " " : "") << r->rows[b].tokens[i];
      std::printf("[%zu] %s\n", b, codec ? r->rows[b].text.c_str() : line.str().c_str());
    }
  } else {
    std::printf("\n");
  }
  std::printf("timings: prompt %lld tokens %.1f tok/s | generated %lld tokens %.1f tok/s | TTFT %.1f ms | KV cache %.2f MiB"
              " (%s, %lld tokens)\n",
              static_cast<long long>(r->prompt_tokens), prompt_tps, static_cast<long long>(r->generated_tokens), gen_tps,
              r->ttft_ms, static_cast<double>(r->kv_cache_bytes) / (1 << 20), a.kv_cache.c_str(),
              static_cast<long long>(r->kv_cache_capacity));
  return kExitOk;
}

Action SetupGenerate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  // Spelled as llama.cpp spells them (-m -p -n -c -s --temp); -t is --threads, global.
  AddModelOption(app, a->model, "model folder, HF id in the local cache (gpt2, org/name), or a .gguf file")->required();
  app.add_option("-p,--prompt", a->prompt, "prompt text");
  app.add_option("PROMPT", a->prompt, "prompt text (the same as -p)");
  app.add_option("--image", a->image, "an image (PNG or JPEG) for a vision-language model (LLaVA); the prompt's <image> marks its place");
  app.add_option("--prompt-ids", a->prompt_ids, "prompt as token ids: \"1,2,3\" or \"1 2 3\" (';' between rows for a batch)");
  app.add_option("-n,--n-predict,--max-tokens", a->max_tokens, "most new tokens; -1: until EOS or the context is full")
      ->check(CountOrUnlimited());
  app.add_option("-c,--ctx-size,--max-context", a->max_context, "KV cache size in tokens (default: the model's context)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));  // 0 would silently mean the default
  app.add_option("--temp,--temperature", a->temperature, "sampling temperature; 0 = greedy")->check(CLI::NonNegativeNumber);
  app.add_option("--top-k", a->top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  app.add_option("--top-p", a->top_p, "nucleus sampling mass (1 = off)");
  app.add_option("--min-p", a->min_p, "drop tokens below min-p x the top probability (0 = off)");
  app.add_option("--repeat-penalty,--repetition-penalty", a->repetition_penalty, "HF-style repetition penalty (1 = off)");
  app.add_option("--presence-penalty", a->presence, "OpenAI-style presence penalty");
  app.add_option("--frequency-penalty", a->frequency, "OpenAI-style frequency penalty");
  app.add_option("-s,--seed", a->seed, "random seed: the same seed gives the same tokens");
  app.add_option("--stop", a->stop, "stop when this text appears (repeatable)");
  app.add_option("--kv-cache", a->kv_cache, "KV cache storage: f32, q8_0 or q4_0 (quantized: 3.8x / 7.1x smaller, needs a head_dim that is a multiple of 32; docs/GENERATION.md)")
      ->check(CLI::IsMember({"f32", "q8_0", "q4_0"}));
  AddDeviceOption(app, a->device);
  AddMemoryLimitOption(app, a->memory_limit);
  app.add_flag("--chat", a->chat, "wrap the prompt in the model's chat template");
  app.add_flag("--json", a->json, "print one JSON object instead of streaming");
  app.add_flag("--ignore-eos", a->ignore_eos, "keep generating past EOS");
  return [a] { return RunGenerate(*a); };
}

}  // namespace
ACCEL_REGISTER_COMMAND("generate", "generate text with a decoder model (streams tokens, then timings)", SetupGenerate);
}  // namespace accel::cli
