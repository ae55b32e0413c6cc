#pragma once
// The token stream of a text file for the commands that run a model over a corpus (imatrix,
// quant-eval): the text through the model's tokenizer, or the file's own token ids
// (--token-ids) for models without one, such as the bundled fixtures.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/chunked_eval.h"
#include "runtime/text_model.h"

namespace accel::cli {

Result<std::vector<int64_t>> FileTokens(TextModel& model, const std::string& file, bool token_ids);

// Chunks start at the model's BOS when its config names one (as llama.cpp's tools do).
ChunkOptions ChunksFor(TextModel& model, int64_t ctx, int64_t max_chunks);

}  // namespace accel::cli
