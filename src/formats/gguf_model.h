#pragma once
// A GGUF model seen as a Hugging Face folder: its hyper-parameters as a config.json for the
// matching template and its tensors under HF names, so the same model code runs it. Linear
// weights keep their GGUF dtype (Q8_0/Q4_0 run through the backend's quantized Linear);
// embeddings and norms are converted to f32.
#include <string>

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/model_source.h"

namespace accel {

struct GgufModelParts {
  HfConfig config;
  WeightStore weights;
};

// Supported architectures: llama (LLaMA, Mistral, TinyLlama and other llama-arch files).
Result<GgufModelParts> GgufToHf(const GgufFile& file);

}  // namespace accel
