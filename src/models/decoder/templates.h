#pragma once
// The decoder-only templates registered in models/registry.cpp.
#include <memory>

#include "models/model.h"

namespace accel::decoder {

// llama, mistral, qwen2, qwen3, gemma, phi3: RMSNorm, RoPE, gated MLP, separate or fused q/k/v.
Result<std::unique_ptr<Model>> LoadLlamaDecoder(ModelLoadContext& ctx);
// gpt2, gpt_neox, opt, gptj, bloom, falcon: LayerNorm, learned/rotary/ALiBi positions, plain MLP.
Result<std::unique_ptr<Model>> LoadGptDecoder(ModelLoadContext& ctx);

}  // namespace accel::decoder
