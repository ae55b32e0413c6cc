#pragma once
// Text -> sentence embeddings with an encoder: the folder's tokenizer (batched, padded to the
// longest text, truncated to the model's positions), one forward pass, pooling, normalisation.
#include <string>
#include <vector>

#include "runtime/loaded_model.h"
#include "runtime/sentence_embedding.h"
#include "tokenizers/tokenizer.h"

namespace accel {

struct TextEmbeddingOptions {
  Pooling pooling = Pooling::kMean;
  bool normalize = true;
};

// Returns [texts.size(), hidden] f32.
Result<Tensor> EmbedTexts(LoadedModel& model, Tokenizer& tokenizer, const std::vector<std::string>& texts,
                          const TextEmbeddingOptions& options);

}  // namespace accel
