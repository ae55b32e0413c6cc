#pragma once
// Runs a decoder-only model over a long token sequence in fixed chunks of `ctx` tokens, each
// from an empty KV cache, as llama.cpp's perplexity and imatrix tools do: what calibration
// (runtime/imatrix) and quantization-error measurement (runtime/quant_eval) both need.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "runtime/loaded_model.h"

namespace accel {

struct ChunkOptions {
  int64_t ctx = 512;       // tokens per chunk; the model's context must hold them
  int64_t max_chunks = 0;  // 0: every whole chunk of the text
  // Replaces each chunk's first token (llama.cpp's imatrix and perplexity start every chunk at
  // BOS); nullopt keeps the text's token.
  std::optional<int64_t> bos;
};

// How many chunks `tokens` gives; an error naming the counts when there is not one whole chunk.
Result<int64_t> ChunkCount(size_t tokens, const ChunkOptions& o);

// For each chunk: its ids and the logits of every position, [ctx, vocab] f32 on the host.
using ChunkFn = std::function<Status(int64_t chunk, const std::vector<int64_t>& ids, const Tensor& logits)>;
// `observer` (may be null) sees every Linear's input while the chunks run.
Status RunChunks(LoadedModel& model, const std::vector<int64_t>& tokens, const ChunkOptions& o, LinearObserver* observer,
                 const ChunkFn& on_chunk);

}  // namespace accel
