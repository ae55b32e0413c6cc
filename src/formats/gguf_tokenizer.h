#pragma once
// The tokenizer a GGUF file carries in its metadata (tokenizer.ggml.*), rebuilt as the
// equivalent Hugging Face tokenizer.json document and loaded through Tokenizer::FromJson, so
// GGUF and HF folders share one tokenizer implementation.
//
//  "llama" (SentencePiece BPE): BPE with byte_fallback over tokens/scores, merges derived from
//          the scores as transformers' SentencePieceExtractor does, Metaspace (prepend first).
//  "gpt2"  (byte-level BPE): the given merges, the pre-tokenizer regex named by
//          tokenizer.ggml.pre (default/gpt2, llama-bpe/llama3, qwen2).
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "formats/gguf.h"
#include "text/chat_template.h"
#include "tokenizers/tokenizer.h"

namespace accel {

// tokenizer.json for the metadata; errors name the offending key.
Result<nlohmann::json> GgufTokenizerJson(const nlohmann::json& metadata);
Result<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file);
// tokenizer.chat_template with the BOS/EOS token strings; nullopt when the file has none.
Result<std::optional<text::ChatTemplate>> ChatTemplateFromGguf(const GgufFile& file);

}  // namespace accel
