#pragma once
// The decoder-only templates registered in models/registry.cpp.
#include <memory>
#include <string>

#include "models/model.h"

namespace accel::decoder {

// llama, mistral, qwen2, qwen3, gemma, phi3: RMSNorm, RoPE, gated MLP, separate or fused q/k/v.
Result<std::unique_ptr<Model>> LoadLlamaDecoder(ModelLoadContext& ctx);
// The llama template's language model under other names: `model_prefix` + "embed_tokens",
// "layers.N.", "norm", and the head at `lm_head` + ".weight" (the embeddings when tied). How the
// multimodal models (LLaVA) hold their language model; ctx.config is the text config.
class DecoderModel;
Result<std::unique_ptr<DecoderModel>> LoadLlamaLanguageModel(ModelLoadContext& ctx, const std::string& model_prefix,
                                                             const std::string& lm_head);
// gpt2, gpt_neox, opt, gptj, bloom, falcon: LayerNorm, learned/rotary/ALiBi positions, plain MLP.
Result<std::unique_ptr<Model>> LoadGptDecoder(ModelLoadContext& ctx);

}  // namespace accel::decoder
