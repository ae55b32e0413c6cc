#pragma once
// A GGUF model seen as a Hugging Face folder: its hyper-parameters as a config.json for the
// matching template and its tensors under HF names, so the same model code runs it. Linear
// weights keep their GGUF dtype (Q8_0/Q4_0 run through the backend's quantized Linear);
// embeddings and norms are converted to f32.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/imatrix_file.h"
#include "formats/model_source.h"
#include "formats/quant_search.h"

namespace accel {

struct GgufModelParts {
  HfConfig config;
  WeightStore weights;
};

// Supported architectures: llama (LLaMA, Mistral, TinyLlama and other llama-arch files), qwen2,
// qwen3.
Result<GgufModelParts> GgufToHf(const GgufFile& file);

// GgufToHf's config.json alone, from the metadata and the tensor table's shapes: no tensor data
// is read, so memory admission can estimate a file before loading it.
Result<HfConfig> GgufHfConfig(const GgufFile& file);
// The bytes GgufToHf's weights take: tensors as stored, except quantized embeddings and norms,
// which it converts to f32. From the tensor table alone.
int64_t GgufLoadedWeightBytes(const GgufFile& file);

// The other direction, for LLaMA-architecture models (model_type llama or mistral, no biases,
// untied or tied head) and qwen2 / qwen3: tensors under llama.cpp's names (token_embd,
// blk.N.attn_q, ..., output; qwen2's q/k/v biases, qwen3's attn_q_norm/attn_k_norm), q/k rows
// permuted to adjacent rotary pairs for llama as llama.cpp's converter does, hyper-parameters
// as <arch>.* keys of the types llama.cpp reads. GgufToHf of the result is the same model.
struct GgufExportOptions {
  // Projections and the output head: f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, q3_k, q2_k,
  // iq4_nl or iq4_xs; embeddings and norms stay f32. K-quant (and iq4_*) rows that are not whole
  // 256-blocks are written as q8_0.
  DType weight_dtype = DType::kF32;
  // With a K-quant weight_dtype: llama-quantize's _M mix (Q4_K_M, Q5_K_M): the output head and
  // some layers' attn_v / ffn_down in Q6_K.
  bool k_quant_mix = false;
  // A stand-in SentencePiece vocabulary of vocab_size entries (<unk>, <s>, </s>, the 256 byte
  // tokens, then made-up pieces) for models that have no tokenizer yet, such as synthetic
  // benchmark models: tools that load the file (llama.cpp's llama-bench) need one.
  bool placeholder_vocab = false;
  // How block scales are chosen (quant_search.h): the weighted search (default) or plain
  // round-to-nearest, the baseline it is measured against.
  quant::ScaleSearch search = quant::ScaleSearch::kSearch;
  // Importance weights per projection (`accel imatrix`), by HF weight name. Every quantized
  // projection needs its entry with one value per input column, and every entry must name a
  // weight of the model; otherwise the export fails naming the tensor.
  const Imatrix* imatrix = nullptr;
  // Types of single projections by HF weight name (a mixed plan, formats/mixed_plan.h); they
  // override weight_dtype and the _M recipe. Rows that are not whole 256-blocks must not be
  // given a K-quant here.
  std::map<std::string, DType> tensor_types;
  std::string name = "accel-export";
  // Further metadata, typed by its JSON kind (GgufWriter::SetJson).
  std::vector<std::pair<std::string, nlohmann::json>> extra_metadata;
  // A GGUF whose tokenizer.* keys (vocabulary, merges, token types, special ids, chat template)
  // are copied with their GGUF types, e.g. when re-quantizing a file; keys written from the
  // config (bos/eos ids) win.
  const GgufFile* tokenizer_source = nullptr;
};
// llama-quantize's type names: f32, f16, bf16, q8_0, q4_0, q4_k (= q4_k_s), q4_k_m, q5_k
// (= q5_k_s), q5_k_m, q6_k, q3_k (= q3_k_s), q2_k, iq4_nl, iq4_xs. The error lists them.
Result<GgufExportOptions> GgufExportOptionsFor(const std::string& type);
Status WriteLlamaGguf(const std::string& path, const HfConfig& config, WeightStore& weights,
                      const GgufExportOptions& options);

}  // namespace accel
