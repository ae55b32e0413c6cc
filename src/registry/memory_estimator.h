#pragma once
// How big a model is and how much memory a workload needs, before loading it: parameters from
// config.json (exact from safetensors headers when the files are there), then weights at a
// dtype, activations of one layer at a time for a batch and sequence length, and the KV cache
// of a decoder. Config values are range-checked, so a hostile config (10^12 layers, negative
// sizes) is an error naming the key, never an overflow.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "registry/model_evidence.h"

namespace accel::registry {

// The shape numbers of one transformer stack, read through the key aliases HF configs use.
struct ModelDims {
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0;
  int64_t vocab = 0, max_positions = 0, experts = 1;
  int64_t encoder_layers = 0, decoder_layers = 0;  // encoder-decoder models
  int64_t embedding = 0;  // a factorised embedding's width (ALBERT), 0 = hidden
  bool gated_mlp = false, tied_embeddings = true, learned_positions = false;
  // Hierarchical vision backbones (Swin, ConvNeXt, ResNet, CLAP's audio Swin) say `depths`, one
  // block count per stage, instead of num_hidden_layers: `layers` is their sum and each stage
  // has its own width.
  enum class Block { kTransformer, kConvNext, kBottleneck, kBasic };
  struct Stage {
    int64_t depth = 0, width = 0;
  };
  std::vector<Stage> stages;
  Block block = Block::kTransformer;
};

// Reads dims from a config (or a sub-config such as text_config); errors name file and key.
Result<ModelDims> ReadDims(const HfConfig& config);

struct ParamCount {
  int64_t params = 0;
  std::string source;                              // "config.json estimate" or "safetensors headers (exact)"
  std::map<std::string, int64_t> bytes_by_dtype;   // only for the exact path
  int64_t file_bytes = 0;                          // weight bytes on disk (exact path)
};

// From config.json alone (multimodal configs sum their sub-configs).
Result<ParamCount> ParamsFromConfig(const HfConfig& config);
// Exact from safetensors headers in `evidence.dir` when present, else from the config.
Result<ParamCount> CountParams(const ModelEvidence& evidence);
// Exact from a GGUF file's tensor table (no tensor data is read).
ParamCount ParamsFromGguf(const GgufFile& file);

struct MemoryEstimate {
  DType dtype = DType::kF32;
  int64_t batch = 1, seq = 1;
  int64_t weights_bytes = 0;
  int64_t activation_bytes = 0;
  int64_t kv_cache_bytes = 0;
  int64_t total_bytes = 0;
  double flops = 0;  // forward FLOPs for the workload (2 per multiply-add): the selector's size
};

Result<MemoryEstimate> EstimateMemory(const HfConfig& config, const ParamCount& params, DType dtype, int64_t batch,
                                      int64_t seq, bool is_decoder);

// OutOfMemory with the breakdown when the estimate does not fit in `budget_bytes`.
Status CheckFits(const MemoryEstimate& estimate, int64_t budget_bytes, const std::string& device);

}  // namespace accel::registry
