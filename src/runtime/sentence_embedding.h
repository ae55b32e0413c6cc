#pragma once
// Sentence embeddings from an encoder's last_hidden_state: CLS or masked-mean pooling, then
// optional L2 normalisation — what sentence-transformers does after the transformer.
#include <string>

#include "core/tensor.h"

namespace accel {

enum class Pooling { kCls, kMean };

Result<Pooling> ParsePooling(const std::string& name);  // "cls" | "mean"
// sentence-transformers folders say how they pool in 1_Pooling/config.json; otherwise mean.
Pooling PoolingForModelDir(const std::string& dir);

// hidden [B, S, H] f32, mask [B, S] (i64; null = all tokens) -> [B, H] f32.
Result<Tensor> PoolSentences(const Tensor& hidden, const Tensor* mask, Pooling pooling, bool normalize);

}  // namespace accel
