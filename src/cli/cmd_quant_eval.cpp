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
  std::string model, test;
  CorpusArgs corpus;
};

Status RunQuantEval(const QuantEvalArgs& a) {
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<TextModel> ref, TextModel::Load(a.model, LoadOptions(a.corpus.device)));
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> test, LoadedModel::Load(a.test, LoadOptions(a.corpus.device)));
  ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> tokens, FileTokens(*ref, a.corpus));
  ACCEL_ASSIGN_OR_RETURN(LogitComparison r, CompareLogits(ref->model(), *test, tokens, ChunksFor(*ref, a.corpus)));
  std::printf("positions %lld  mean KL %.6f  max KL %.5f  top-1 agreement %.2f%%  max |dlogit| %.4f  perplexity %.3f -> %.3f\n",
              static_cast<long long>(r.positions), r.mean_kl, r.max_kl, 100 * r.top1_agreement, r.max_abs_diff, r.ref_perplexity,
              r.test_perplexity);
  return Status::Ok();
}

Action SetupQuantEval(CLI::App& app) {
  auto a = std::make_shared<QuantEvalArgs>();
  AddModelOption(app, a->model, "the reference model (f32 or bf16): an HF folder, an HF id in the local cache, or a .gguf")->required();
  app.add_option("--test", a->test, "the model compared with it, e.g. its quantized .gguf")->required();
  AddCorpusOptions(app, a->corpus, "evaluation text");
  return [a] {
    Status s = RunQuantEval(*a);
    return s.ok() ? kExitOk : ReportError(s);
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("quant-eval", "compare a quantized model's next-token distributions with a reference's (KL, top-1, perplexity)",
                       SetupQuantEval);
}  // namespace accel::cli
