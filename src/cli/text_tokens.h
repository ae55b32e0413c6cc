#pragma once
// The token stream of a text file for the commands that run a model over a corpus (imatrix,
// quant-eval): the text through the model's tokenizer, or the file's own token ids
// (--token-ids) for models without one, such as the bundled fixtures.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/chunked_eval.h"
#include "runtime/text_model.h"

namespace accel::cli {

// The options of a command that runs a model over a text file in chunks.
struct CorpusArgs {
  std::string file, device = "auto";
  int64_t ctx = 512, chunks = 0;
  bool token_ids = false;
};
// -f/--file (`what` says what the text is for), -c/--ctx-size, --chunks, --token-ids, -d/--device.
void AddCorpusOptions(CLI::App& app, CorpusArgs& a, const std::string& what);

Result<std::vector<int64_t>> FileTokens(TextModel& model, const CorpusArgs& a);

// Chunks start at the model's BOS when its config names one (as llama.cpp's tools do).
ChunkOptions ChunksFor(TextModel& model, const CorpusArgs& a);

}  // namespace accel::cli
