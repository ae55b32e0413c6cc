#include "registry/memory_estimator.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "hw/hw_report.h"

namespace accel::registry {

namespace fs = std::filesystem;

namespace {

// The largest value accepted for each dimension: far above any real model, low enough that
// products of them stay inside a double's exact range and an int64.
constexpr int64_t kMaxLayers = 10000, kMaxHidden = 1 << 20, kMaxVocab = 1 << 27, kMaxHeads = 1 << 16;
constexpr int64_t kMaxIntermediate = 1 << 23, kMaxPositions = 1 << 24, kMaxExperts = 4096;

// First present key among `keys`: must be an integer in [1, max]; absent -> `fallback`.
Result<int64_t> Dim(const HfConfig& c, std::initializer_list<std::string_view> keys, int64_t max, int64_t fallback) {
  for (std::string_view k : keys) {
    if (!c.Has(k)) continue;
    const auto& v = c.doc()[std::string(k)];
    if (!v.is_number_integer())
      return Corrupt(c.label() + ": '" + std::string(k) + "' must be an integer");
    int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v.get<int64_t>();
    if (x < 1 || x > max)
      return Corrupt(c.label() + ": '" + std::string(k) + "' = " + v.dump() + " is out of range (1.." +
                     std::to_string(max) + ")");
    return x;
  }
  return fallback;
}

// A list of positive integers under `key` (Swin's `depths`, ConvNeXt's `hidden_sizes`); absent or
// empty -> empty. Each element is range-checked like a single dimension.
Result<std::vector<int64_t>> DimList(const HfConfig& c, std::string_view key, int64_t max) {
  std::vector<int64_t> out;
  if (!c.Has(key)) return out;
  const auto& v = c.doc()[std::string(key)];
  if (!v.is_array()) return out;
  if (v.size() > 64) return Corrupt(c.label() + ": '" + std::string(key) + "' has " + std::to_string(v.size()) + " entries");
  for (const auto& x : v) {
    if (!x.is_number_integer() || x.get<int64_t>() < 1 || x.get<int64_t>() > max)
      return Corrupt(c.label() + ": '" + std::string(key) + "' must be a list of integers in 1.." + std::to_string(max));
    out.push_back(x.get<int64_t>());
  }
  return out;
}

double AttentionParams(const ModelDims& d) {
  double q = static_cast<double>(d.hidden) * d.heads * d.head_dim;
  double kv = 2.0 * d.hidden * d.kv_heads * d.head_dim;
  double o = static_cast<double>(d.heads) * d.head_dim * d.hidden;
  return q + kv + o;
}
double MlpParams(const ModelDims& d) {
  return (d.gated_mlp ? 3.0 : 2.0) * d.hidden * d.intermediate * d.experts;
}

// Parameters of one block of a staged backbone at width w.
double StageBlockParams(ModelDims::Block block, double w) {
  switch (block) {
    case ModelDims::Block::kTransformer: return 12.0 * w * w + 13.0 * w;  // attention + 4x MLP + norms
    case ModelDims::Block::kConvNext: return 8.0 * w * w + 49.0 * w + 7.0 * w;  // 7x7 depthwise + 4x MLP
    case ModelDims::Block::kBottleneck: return w * w / 4.0 + 9.0 * (w / 4.0) * (w / 4.0) + w * w / 4.0;
    case ModelDims::Block::kBasic: return 18.0 * w * w;  // two 3x3 convolutions
  }
  return 0;
}

double StackParams(const ModelDims& d) {
  if (!d.stages.empty()) {
    double params = 0, prev = 0;
    for (const auto& st : d.stages) {
      const double w = static_cast<double>(st.width);
      params += static_cast<double>(st.depth) * StageBlockParams(d.block, w);
      if (prev > 0) params += 4.0 * prev * w;  // the 2x2 merge / downsample between stages
      prev = w;
    }
    params += static_cast<double>(d.vocab) * d.hidden;
    return params;
  }
  double per_layer = AttentionParams(d) + MlpParams(d) + 4.0 * d.hidden;  // + 2 norms (weight, bias)
  double params = 0;
  if (d.encoder_layers > 0 || d.decoder_layers > 0) {
    // Encoder-decoder: decoder layers add cross-attention.
    params += d.encoder_layers * per_layer + d.decoder_layers * (per_layer + AttentionParams(d));
  } else {
    params += d.layers * per_layer;
  }
  const double embedding = d.embedding > 0 ? static_cast<double>(d.embedding) : static_cast<double>(d.hidden);
  params += static_cast<double>(d.vocab) * embedding;
  if (d.embedding > 0 && d.embedding != d.hidden) params += embedding * d.hidden;  // the projection
  if (!d.tied_embeddings && d.vocab > 0) params += static_cast<double>(d.vocab) * d.hidden;
  if (d.learned_positions) params += static_cast<double>(d.max_positions) * d.hidden;
  return params;
}

}  // namespace

Result<ModelDims> ReadDims(const HfConfig& c) {
  ModelDims d;
  ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> depths, DimList(c, "depths", kMaxLayers));
  ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> widths, DimList(c, "hidden_sizes", kMaxHidden));
  ACCEL_ASSIGN_OR_RETURN(d.hidden, Dim(c, {"hidden_size", "d_model", "n_embd", "dim", "embed_dim"}, kMaxHidden, 0));
  if (!depths.empty()) {
    // Stage widths: hidden_sizes (ConvNeXt, ResNet), else embed_dim doubling per stage (Swin;
    // CLAP's audio tower says patch_embeds_hidden_size), else hidden_size halved back.
    if (!widths.empty() && widths.size() != depths.size())
      return c.Contradiction("depths", "has a different number of stages than", "hidden_sizes");
    int64_t base = 0;
    if (widths.empty()) {
      ACCEL_ASSIGN_OR_RETURN(base, Dim(c, {"embed_dim", "patch_embeds_hidden_size"}, kMaxHidden, 0));
      if (base == 0 && d.hidden > 0) base = d.hidden >> std::min<size_t>(depths.size() - 1, 20);
      if (base == 0) return Corrupt(c.label() + ": missing required key 'embed_dim' (or hidden_sizes) for its depths");
    }
    int64_t total = 0;
    for (size_t i = 0; i < depths.size(); ++i) {
      const int64_t w = widths.empty() ? std::min<int64_t>(base << std::min<size_t>(i, 20), kMaxHidden) : widths[i];
      d.stages.push_back({depths[i], w});
      total += depths[i];
    }
    if (total > kMaxLayers) return Corrupt(c.label() + ": 'depths' add up to " + std::to_string(total) + " layers");
    d.layers = total;
    d.hidden = d.stages.back().width;
    const std::string layer_type = c.StringOr("layer_type", "");
    d.block = layer_type == "bottleneck" ? ModelDims::Block::kBottleneck
              : layer_type == "basic"    ? ModelDims::Block::kBasic
              : (c.Has("num_heads") || c.Has("num_attention_heads") || c.Has("window_size"))
                  ? ModelDims::Block::kTransformer
                  : ModelDims::Block::kConvNext;
  }
  if (d.hidden == 0) return Corrupt(c.label() + ": missing required key 'hidden_size' (or d_model/n_embd/dim)");
  if (d.stages.empty()) {
    ACCEL_ASSIGN_OR_RETURN(d.layers, Dim(c, {"num_hidden_layers", "n_layer", "num_layers", "n_layers"}, kMaxLayers, 0));
  }
  ACCEL_ASSIGN_OR_RETURN(d.encoder_layers, Dim(c, {"encoder_layers"}, kMaxLayers, 0));
  ACCEL_ASSIGN_OR_RETURN(d.decoder_layers, Dim(c, {"decoder_layers", "num_decoder_layers"}, kMaxLayers, 0));
  if (c.model_type() == "albert") {
    // ALBERT shares its layers: num_hidden_groups groups of inner_group_num distinct layers,
    // reached through a factorised embedding of embedding_size.
    ACCEL_ASSIGN_OR_RETURN(int64_t groups, Dim(c, {"num_hidden_groups"}, kMaxLayers, 1));
    ACCEL_ASSIGN_OR_RETURN(int64_t inner, Dim(c, {"inner_group_num"}, kMaxLayers, 1));
    if (d.layers > 0) d.layers = std::min(d.layers, groups * inner);
  }
  if (d.stages.empty()) {  // ALBERT, ELECTRA: a factorised embedding (ResNet's embedding_size is its stem)
    ACCEL_ASSIGN_OR_RETURN(d.embedding, Dim(c, {"embedding_size"}, kMaxHidden, 0));
  }
  if (c.BoolOr("is_encoder_decoder", false) && d.encoder_layers == 0 && d.layers > 0) {
    d.encoder_layers = d.layers;  // T5: num_layers is the encoder, num_decoder_layers the decoder
    if (d.decoder_layers == 0) d.decoder_layers = d.layers;
  }
  if (d.layers == 0 && d.encoder_layers == 0)
    return Corrupt(c.label() + ": missing required key 'num_hidden_layers' (or n_layer/num_layers/encoder_layers)");
  // Staged backbones give one head count per stage: the last stage's is the widest.
  for (const char* k : {"num_attention_heads", "num_heads"}) {
    ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> per_stage, DimList(c, k, kMaxHeads));
    if (!per_stage.empty()) {
      d.heads = per_stage.back();
      break;
    }
  }
  if (d.heads == 0) {
    ACCEL_ASSIGN_OR_RETURN(d.heads, Dim(c, {"num_attention_heads", "n_head", "num_heads", "encoder_attention_heads"},
                                        kMaxHeads, 0));
  }
  if (d.heads == 0) d.heads = std::max<int64_t>(1, d.hidden / 64);
  ACCEL_ASSIGN_OR_RETURN(d.head_dim, Dim(c, {"head_dim", "d_kv"}, kMaxHidden, d.hidden / d.heads));
  if (c.BoolOr("multi_query", false)) d.kv_heads = 1;
  else {
    ACCEL_ASSIGN_OR_RETURN(d.kv_heads, Dim(c, {"num_key_value_heads", "num_kv_heads"}, kMaxHeads, d.heads));
  }
  ACCEL_ASSIGN_OR_RETURN(d.intermediate, Dim(c, {"intermediate_size", "d_ff", "n_inner", "hidden_dim", "ffn_dim",
                                                 "encoder_ffn_dim"}, kMaxIntermediate, 4 * d.hidden));
  ACCEL_ASSIGN_OR_RETURN(d.vocab, Dim(c, {"vocab_size"}, kMaxVocab, 0));
  ACCEL_ASSIGN_OR_RETURN(d.max_positions, Dim(c, {"max_position_embeddings", "n_positions", "max_source_positions"},
                                              kMaxPositions, 0));
  ACCEL_ASSIGN_OR_RETURN(d.experts, Dim(c, {"num_local_experts", "num_experts"}, kMaxExperts, 1));
  std::string act = c.StringOr("hidden_act", "") + c.StringOr("feed_forward_proj", "") + c.StringOr("hidden_activation", "");
  d.gated_mlp = act.find("silu") != std::string::npos || act.find("gated") != std::string::npos ||
                act.find("swiglu") != std::string::npos || c.model_type() == "gemma";
  d.tied_embeddings = c.BoolOr("tie_word_embeddings", true);
  // Rotary and relative-position models have no position table.
  d.learned_positions = d.max_positions > 0 && !c.Has("rope_theta") && !c.Has("rotary_dim") &&
                        !c.Has("rotary_pct") && !c.Has("relative_attention_num_buckets") &&
                        !c.Has("alibi") && c.model_type() != "bloom" && c.model_type() != "falcon";
  return d;
}

Result<ParamCount> ParamsFromConfig(const HfConfig& config) {
  ParamCount out;
  out.source = "config.json estimate";
  // Composite models (CLIP, LLaVA, Whisper-like with sub-configs) sum their parts.
  double total = 0;
  bool composite = false;
  for (const char* sub : {"text_config", "vision_config", "audio_config"}) {
    if (!config.Has(sub)) continue;
    if (!config.doc()[sub].is_object()) return Corrupt(config.label() + ": '" + sub + "' must be an object");
    HfConfig part = config.Sub(sub);
    auto dims = ReadDims(part);
    if (!dims.ok()) {
      // Sub-configs may rely on HF's class defaults (an empty text_config): skip them, say so.
      if (part.doc().empty()) continue;
      return dims.status();
    }
    composite = true;
    total += StackParams(*dims);
  }
  if (!composite) {
    ACCEL_ASSIGN_OR_RETURN(ModelDims d, ReadDims(config));
    total = StackParams(d);
  }
  if (!(total >= 0) || total > 1e14) return Corrupt(config.label() + ": the sizes describe more than 10^14 parameters");
  out.params = static_cast<int64_t>(total);
  return out;
}

Result<ParamCount> CountParams(const ModelEvidence& ev) {
  std::set<std::string> shards;
  if (!ev.dir.empty()) {
    if (ev.files.count("model.safetensors")) shards.insert("model.safetensors");
    else if (ev.files.count("model.safetensors.index.json")) {
      auto text = ReadFileToString((fs::path(ev.dir) / "model.safetensors.index.json").string());
      auto j = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      if (j.is_object() && j.contains("weight_map") && j["weight_map"].is_object())
        for (const auto& v : j["weight_map"])
          if (v.is_string() && v.get<std::string>().find('/') == std::string::npos) shards.insert(v.get<std::string>());
    }
  }
  if (shards.empty()) return ParamsFromConfig(ev.config);
  ParamCount out;
  out.source = "safetensors headers (exact)";
  for (const auto& shard : shards) {
    ACCEL_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open((fs::path(ev.dir) / shard).string()));
    for (const auto& [name, e] : file->entries()) {
      int64_t n = 1;
      for (int64_t dim : e.shape) n *= dim;
      out.params += n;
      out.bytes_by_dtype[std::string(Name(e.dtype))] += static_cast<int64_t>(e.size);
      out.file_bytes += static_cast<int64_t>(e.size);
    }
  }
  return out;
}

ParamCount ParamsFromGguf(const GgufFile& file) {
  ParamCount out;
  out.source = "GGUF tensor table (exact)";
  for (const auto& [name, info] : file.tensors()) {
    out.params += static_cast<int64_t>(NumElements(info.shape).value_or(0));  // Parse bounded it by the file size
    out.bytes_by_dtype[std::string(Name(info.dtype))] += static_cast<int64_t>(info.size);
    out.file_bytes += static_cast<int64_t>(info.size);
  }
  return out;
}

Result<MemoryEstimate> EstimateMemory(const HfConfig& config, const ParamCount& params, DType dtype, int64_t batch,
                                      int64_t seq, bool is_decoder) {
  if (batch < 1 || batch > 1 << 20) return InvalidArgument("batch " + std::to_string(batch) + " is out of range (1..1048576)");
  if (seq < 1 || seq > 1 << 24) return InvalidArgument("sequence length " + std::to_string(seq) + " is out of range");
  MemoryEstimate m;
  m.dtype = dtype;
  m.batch = batch;
  m.seq = seq;
  const DTypeInfo& info = Info(dtype);
  double bytes_per_param = static_cast<double>(info.block_bytes) / static_cast<double>(info.block_elems);
  m.weights_bytes = static_cast<int64_t>(std::ceil(static_cast<double>(params.params) * bytes_per_param));
  // Activations and the KV cache use the text stack's dims (the vision tower of a VLM is small
  // beside its language model); composite configs read text_config.
  HfConfig text = config.Has("text_config") && config.doc()["text_config"].is_object() &&
                          !config.doc()["text_config"].empty()
                      ? config.Sub("text_config")
                      : config;
  auto dims = ReadDims(text);
  double act = 0, kv = 0;
  if (dims.ok()) {
    const ModelDims& d = *dims;
    double tokens = static_cast<double>(batch) * seq;
    // One layer alive at a time: residual + q/k/v/out + MLP hidden, in f32, plus the score matrix.
    act = tokens * (6.0 * d.hidden + (d.gated_mlp ? 2.0 : 1.0) * d.intermediate) * 4.0 +
          static_cast<double>(batch) * d.heads * seq * seq * 4.0;
    // Logits of the last position (generation) or pooled output.
    act += static_cast<double>(batch) * std::max<int64_t>(d.vocab, d.hidden) * 4.0;
    if (is_decoder) {
      // K and V for every layer; 16-bit weights keep a 16-bit cache, everything else f32.
      double kv_elem = (dtype == DType::kF16 || dtype == DType::kBF16) ? 2.0 : 4.0;
      int64_t layers = d.decoder_layers > 0 ? d.decoder_layers : d.layers;
      kv = 2.0 * layers * tokens * d.kv_heads * d.head_dim * kv_elem;
    }
  } else if (params.source.find("exact") == std::string::npos) {
    return dims.status();
  }
  if (act > 9e18 || kv > 9e18) return InvalidArgument("batch x sequence length needs more than 9 EB of memory");
  m.activation_bytes = static_cast<int64_t>(act);
  m.kv_cache_bytes = static_cast<int64_t>(kv);
  m.total_bytes = m.weights_bytes + m.activation_bytes + m.kv_cache_bytes;
  m.flops = 2.0 * static_cast<double>(params.params) * batch * seq;
  return m;
}

Status CheckFits(const MemoryEstimate& e, int64_t budget_bytes, const std::string& device) {
  if (e.total_bytes <= budget_bytes) return Status::Ok();
  return OutOfMemory("model needs " + hw::FormatBytes(e.total_bytes) + " at " + std::string(Name(e.dtype)) +
                     " (weights " + hw::FormatBytes(e.weights_bytes) + " + activations " +
                     hw::FormatBytes(e.activation_bytes) + " + KV cache " + hw::FormatBytes(e.kv_cache_bytes) +
                     ") but " + device + " has " + hw::FormatBytes(budget_bytes) +
                     " available; try a smaller dtype, batch or sequence length, or raise --memory-limit");
}

}  // namespace accel::registry
