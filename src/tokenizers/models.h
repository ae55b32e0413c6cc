#pragma once
// Factories for the tokenizer models (one file per model family).
#include <memory>

#include "tokenizers/pipeline.h"
#include "tokenizers/vocab.h"

namespace accel::tok {

Vocab ParseVocabObject(const json& j, const char* what);
std::unique_ptr<Model> ParseBpe(const json& j);
std::unique_ptr<Model> ParseUnigram(const json& j);

}  // namespace accel::tok
