// accel quant-eval: how far a quantized model's next-token distributions are from a reference
// model's over a text (mean and max KL divergence, top-1 agreement, largest logit difference,
// both perplexities), chunk by chunk as llama.cpp's perplexity --kl-divergence.
#include <cstdio>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/text_tokens.h"
#include "runtime/quant_eval.h"

namespace accel::cli {
namespace {

struct QuantEvalArgs {
  std::string model, test, file, device = "auto";
  int64_t ctx = 512, chunks = 0;
  bool token_ids = false;
};

Status RunQuantEval(const QuantEvalArgs& a) {
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<TextModel> ref, TextModel::Load(a.model, LoadOptions(a.device)));
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> test, LoadedModel::Load(a.test, LoadOptions(a.device)));
  ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> tokens, FileTokens(*ref, a.file, a.token_ids));
  ACCEL_ASSIGN_OR_RETURN(LogitComparison r, CompareLogits(ref->model(), *test, tokens, ChunksFor(*ref, a.ctx, a.chunks)));
  std::printf("positions %lld  mean KL %.6f  max KL %.5f  top-1 agreement %.2f%%  max |dlogit| %.4f  perplexity %.3f -> %.3f\n",
              static_cast<long long>(r.positions), r.mean_kl, r.max_kl, 100 * r.top1_agreement, r.max_abs_diff, r.ref_perplexity,
              r.test_perplexity);
  return Status::Ok();
}

Action SetupQuantEval(CLI::App& app) {
  auto a = std::make_shared<QuantEvalArgs>();
  AddModelOption(app, a->model, "the reference model (f32 or bf16): an HF folder, an HF id in the local cache, or a .gguf")->required();
  app.add_option("--test", a->test, "the model compared with it, e.g. its quantized .gguf")->required();
  app.add_option("-f,--file", a->file, "evaluation text (or token ids with --token-ids)")->required();
  app.add_option("-c,--ctx-size", a->ctx, "tokens per chunk; each chunk starts from an empty cache at BOS")->capture_default_str();
  app.add_option("--chunks", a->chunks, "use at most this many chunks (0: all)")->capture_default_str();
  app.add_flag("--token-ids", a->token_ids, "the file holds token ids (commas or spaces), for models without a tokenizer");
  AddDeviceOption(app, a->device);
  return [a] {
    Status s = RunQuantEval(*a);
    return s.ok() ? kExitOk : ReportError(s);
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("quant-eval", "compare a quantized model's next-token distributions with a reference's (KL, top-1, perplexity)",
                       SetupQuantEval);
}  // namespace accel::cli
