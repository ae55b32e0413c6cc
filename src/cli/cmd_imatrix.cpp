// accel imatrix: runs a decoder over calibration text in chunks of --ctx tokens and writes, for
// every Linear weight, the mean squared activation of each input column (formats/imatrix_file.h),
// which `accel quantize --imatrix` uses to weigh its per-block scale search.
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/text_tokens.h"
#include "core/log.h"
#include "runtime/imatrix.h"
#include "runtime/text_model.h"

namespace accel::cli {
namespace {

struct ImatrixArgs {
  std::string model, out;
  CorpusArgs corpus;
};

Status RunImatrix(const ImatrixArgs& a) {
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<TextModel> tm, TextModel::Load(a.model, LoadOptions(a.corpus.device)));
  ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> tokens, FileTokens(*tm, a.corpus));
  // "chunk 3/16" redrawn in place on a terminal; nothing in pipes or under --quiet.
  const bool show = isatty(STDERR_FILENO) == 1 && log::Enabled(log::Level::kInfo);
  auto progress = [show](int64_t done, int64_t total) {
    if (!show) return;
    std::fprintf(stderr, "\raccel: chunk %lld/%lld%s", static_cast<long long>(done), static_cast<long long>(total), done == total ? "\n" : "");
  };
  ACCEL_ASSIGN_OR_RETURN(Imatrix m, CollectImatrix(tm->model(), tokens, ChunksFor(*tm, a.corpus),
                                                   std::filesystem::path(a.corpus.file).filename().string(), progress));
  ACCEL_RETURN_IF_ERROR(WriteImatrix(a.out, m));
  std::printf("wrote %s (%zu weights, %lld chunks of %lld tokens)\n", a.out.c_str(), m.values.size(),
              static_cast<long long>(m.chunk_count), static_cast<long long>(m.chunk_size));
  return Status::Ok();
}

Action SetupImatrix(CLI::App& app) {
  auto a = std::make_shared<ImatrixArgs>();
  AddModelOption(app, a->model, "decoder model to calibrate: an HF folder, an HF id in the local cache, or a .gguf")->required();
  app.add_option("-o,--out", a->out, "the importance matrix to write (a GGUF file of f32 tensors)")->required();
  AddCorpusOptions(app, a->corpus, "calibration text");
  return [a] {
    Status s = RunImatrix(*a);
    return s.ok() ? kExitOk : ReportError(s);
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("imatrix", "compute an importance matrix (mean squared activations per weight column) over calibration text",
                       SetupImatrix);
}  // namespace accel::cli
