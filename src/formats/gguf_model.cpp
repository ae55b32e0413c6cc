#include "formats/gguf_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string_view>

#include "core/half.h"
#include "formats/gguf_writer.h"
#include "formats/kquants.h"
#include "formats/quant.h"

namespace accel {

namespace {

Result<int64_t> MetaInt(const GgufFile& f, const std::string& key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end() || !it->is_number_integer()) return Corrupt(f.label() + ": metadata '" + key + "' is missing or not an integer");
  return it->get<int64_t>();
}

// blk.N.<gguf> -> model.layers.N.<hf>
const std::map<std::string, std::string>& LayerNames() {
  static const std::map<std::string, std::string> m = {
      {"attn_norm.weight", "input_layernorm.weight"},       {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},         {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},         {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},             {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},             {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},              {"ffn_down.weight", "mlp.down_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},    {"attn_k_norm.weight", "self_attn.k_norm.weight"},
  };
  return m;
}

// "blk.<digits>.<rest>" -> index and rest. Plain parsing: tensor names are untrusted and a
// backtracking regex over a long name overflowed the stack.
bool SplitLayerName(const std::string& name, std::string* index, std::string* rest) {
  static constexpr std::string_view kPrefix = "blk.";
  if (name.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  size_t i = kPrefix.size(), j = i;
  while (j < name.size() && j - i < 9 && name[j] >= '0' && name[j] <= '9') ++j;
  if (j == i || j >= name.size() || name[j] != '.' || j + 1 == name.size()) return false;
  *index = name.substr(i, j - i);
  *rest = name.substr(j + 1);
  return true;
}

// Tensor names go into messages shortened: a 1 MB name must not make a 1 MB error line.
std::string ShownName(const std::string& name) {
  return name.size() <= 120 ? name : name.substr(0, 120) + "...(" + std::to_string(name.size()) + " bytes)";
}

// The HF name of a GGUF tensor; an error for tensors the llama template has no place for.
Result<std::string> HfTensorName(const GgufFile& f, const std::string& arch, const std::string& name) {
  std::string layer_index, layer_rest;
  if (name == "token_embd.weight") return std::string("model.embed_tokens.weight");
  if (name == "output_norm.weight") return std::string("model.norm.weight");
  if (name == "output.weight") return std::string("lm_head.weight");
  if (SplitLayerName(name, &layer_index, &layer_rest) && LayerNames().count(layer_rest))
    return "model.layers." + layer_index + "." + LayerNames().at(layer_rest);
  if (name.find("rope_freqs") != std::string::npos)
    return Unsupported(f.label() + ": tensor '" + ShownName(name) + "' (per-dimension rope frequencies)");
  return Unsupported(f.label() + ": tensor '" + ShownName(name) + "' has no place in a " + arch + " model");
}

// Embeddings and norms are read as f32 by the model; projections stay in their format.
bool ConvertedToF32(const std::string& hf_name, DType stored) {
  const bool linear = hf_name.find("_proj.weight") != std::string::npos || hf_name == "lm_head.weight";
  return !linear && Info(stored).is_quantized;
}

}  // namespace

Result<HfConfig> GgufHfConfig(const GgufFile& f) {
  auto arch_it = f.metadata().find("general.architecture");
  if (arch_it == f.metadata().end() || !arch_it->is_string()) return Corrupt(f.label() + ": no general.architecture");
  const std::string arch = arch_it->get<std::string>();
  // GGUF architecture -> the HF model type our LLaMA template runs. Mistral files say "llama".
  static const std::map<std::string, std::string> kArchs = {
      {"llama", "LlamaForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}};
  if (!kArchs.count(arch)) return Unsupported(f.label() + ": GGUF architecture '" + arch + "' (supported: llama, qwen2, qwen3)");
  const std::string p = arch + ".";
  nlohmann::json c = nlohmann::json::object();
  c["model_type"] = arch;
  c["architectures"] = {kArchs.at(arch)};
  ACCEL_ASSIGN_OR_RETURN(int64_t hidden, MetaInt(f, p + "embedding_length"));
  ACCEL_ASSIGN_OR_RETURN(int64_t heads, MetaInt(f, p + "attention.head_count"));
  c["hidden_size"] = hidden;
  c["num_attention_heads"] = heads;
  ACCEL_ASSIGN_OR_RETURN(c["num_hidden_layers"], MetaInt(f, p + "block_count"));
  ACCEL_ASSIGN_OR_RETURN(c["intermediate_size"], MetaInt(f, p + "feed_forward_length"));
  ACCEL_ASSIGN_OR_RETURN(c["max_position_embeddings"], MetaInt(f, p + "context_length"));
  auto kv_heads = MetaInt(f, p + "attention.head_count_kv");
  c["num_key_value_heads"] = kv_heads.ok() ? *kv_heads : heads;
  const auto& md = f.metadata();
  auto number = [&](const std::string& key, double fallback) {
    auto it = md.find(key);
    return it != md.end() && it->is_number() ? it->get<double>() : fallback;
  };
  for (const char* k : {"attention.layer_norm_rms_epsilon", "rope.freq_base", "rope.scaling.factor"}) {
    auto it = md.find(p + k);
    if (it == md.end() || !it->is_number()) continue;
    const double v = it->get<double>();
    if (!std::isfinite(v) || v <= 0) return Corrupt(f.label() + ": " + p + k + " must be a finite positive number");
  }
  c["rms_norm_eps"] = number(p + "attention.layer_norm_rms_epsilon", 1e-5);
  c["rope_theta"] = number(p + "rope.freq_base", 10000.0);
  // Qwen3 heads are wider than hidden / heads: the key length says so.
  int64_t head_dim = heads > 0 ? hidden / heads : 0;
  if (auto kl = MetaInt(f, p + "attention.key_length"); kl.ok()) head_dim = *kl, c["head_dim"] = *kl;
  if (head_dim > 0 && md.contains(p + "rope.dimension_count") && md[p + "rope.dimension_count"].is_number_integer()) {
    c["partial_rotary_factor"] = static_cast<double>(md[p + "rope.dimension_count"].get<int64_t>()) / static_cast<double>(head_dim);
  }
  if (md.contains(p + "rope.scaling.type") && md[p + "rope.scaling.type"] == "linear") {
    c["rope_scaling"] = {{"type", "linear"}, {"factor", number(p + "rope.scaling.factor", 1.0)}};
  }
  // llama.cpp's converter permutes q/k rows so that rotary pairs are adjacent (GPT-J style) for
  // llama only; qwen2/qwen3 keep HF's rotate-half order (llama.cpp runs them as NEOX rope).
  c["accel_rope_interleaved"] = arch == "llama";
  if (md.contains("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = md["tokenizer.ggml.eos_token_id"];
  if (md.contains("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = md["tokenizer.ggml.bos_token_id"];
  // The vocabulary and head tying come from the tensor table (shapes only).
  auto embd = f.tensors().find("token_embd.weight");
  if (embd == f.tensors().end()) return Corrupt(f.label() + ": no token_embd.weight");
  c["vocab_size"] = embd->second.shape.empty() ? int64_t{0} : embd->second.shape[0];
  c["tie_word_embeddings"] = !f.tensors().count("output.weight");
  return HfConfig::FromJson(std::move(c), f.label());
}

int64_t GgufLoadedWeightBytes(const GgufFile& f) {
  int64_t bytes = 0;
  for (const auto& [name, info] : f.tensors()) {
    auto hf = HfTensorName(f, "", name);
    const bool to_f32 = hf.ok() && ConvertedToF32(*hf, info.dtype);
    const int64_t numel = static_cast<int64_t>(NumElements(info.shape).value_or(0));  // Parse bounded it by the file size
    bytes += to_f32 ? numel * static_cast<int64_t>(sizeof(float)) : static_cast<int64_t>(info.size);
  }
  return bytes;
}

Result<GgufModelParts> GgufToHf(const GgufFile& f) {
  ACCEL_ASSIGN_OR_RETURN(HfConfig config, GgufHfConfig(f));
  const std::string arch = config.model_type();
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, info] : f.tensors()) {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, f.Get(name));
    ACCEL_ASSIGN_OR_RETURN(std::string hf, HfTensorName(f, arch, name));
    if (ConvertedToF32(hf, t.dtype())) {
      ACCEL_ASSIGN_OR_RETURN(t, quant::ToF32(t));
    }
    tensors[hf] = t;
  }
  return GgufModelParts{std::move(config), WeightStore::FromTensors(std::move(tensors), f.label())};
}

namespace {

Result<Tensor> ConvertTo(const Tensor& t, DType to, const quant::QuantParams& p = {}) {
  if (t.dtype() == to) return t;
  ACCEL_ASSIGN_OR_RETURN(Tensor f, quant::ToF32(t));
  switch (to) {
    case DType::kF32: return f;
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kQ3_K:
    case DType::kQ2_K:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS: return quant::Quantize(f, to, p);
    case DType::kF16:
    case DType::kBF16: {
      ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(to, f.shape()));
      const float* src = f.data<float>();
      uint16_t* dst = out.data<uint16_t>();
      for (size_t i = 0; i < f.numel(); ++i) dst[i] = to == DType::kF16 ? F32ToF16(src[i]) : F32ToBf16(src[i]);
      return out;
    }
    default: return Unsupported("GGUF export to " + std::string(Name(to)) + " weights");
  }
}

// HF keeps each head's rotary pairs (i, i + d/2) in the two halves of its rows; llama.cpp's
// GGUF puts them side by side (2i, 2i + 1). Row r = h*d + half*d/2 + i moves to h*d + 2i + half.
Result<Tensor> PermuteRotaryRows(const Tensor& w, int64_t heads) {
  ACCEL_ASSIGN_OR_RETURN(Tensor f, quant::ToF32(w));
  const int64_t rows = f.dim(0), in = f.dim(1), d = rows / heads;
  if (rows % heads != 0 || d % 2 != 0) return Corrupt("q/k projection of " + std::to_string(rows) + " rows for " + std::to_string(heads) + " heads");
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF32, f.shape()));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < d / 2; ++i) {
      for (int64_t half = 0; half < 2; ++half) {
        std::memcpy(out.data<float>() + (h * d + 2 * i + half) * in, f.data<float>() + (h * d + half * d / 2 + i) * in,
                    sizeof(float) * in);
      }
    }
  }
  return out;
}

// The imatrix entry of a weight quantized to `to` (null when `to` takes no importance: float
// types and Q8_0), checked against the weight's columns.
Result<const float*> ImportanceFor(const Imatrix* m, const std::string& hf, const Shape& shape, DType to) {
  if (m == nullptr || !Info(to).is_quantized || to == DType::kQ8_0) return static_cast<const float*>(nullptr);
  auto it = m->values.find(hf);
  if (it == m->values.end()) return InvalidArgument("the importance matrix has no entry for '" + hf + "' (computed on another model?)");
  if (static_cast<int64_t>(it->second.size()) != shape.back()) {
    return InvalidArgument("the importance matrix entry '" + hf + "' has " + std::to_string(it->second.size()) + " columns, the weight has " +
                           std::to_string(shape.back()));
  }
  return it->second.data();
}

uint32_t FileType(DType t) {
  switch (t) {
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 7;
    case DType::kQ4_K: return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
    case DType::kQ5_K: return 17;  // LLAMA_FTYPE_MOSTLY_Q5_K_M
    case DType::kQ6_K: return 18;
    case DType::kQ3_K: return 12;    // LLAMA_FTYPE_MOSTLY_Q3_K_M
    case DType::kQ2_K: return 10;    // LLAMA_FTYPE_MOSTLY_Q2_K
    case DType::kIQ4_NL: return 25;  // LLAMA_FTYPE_MOSTLY_IQ4_NL
    case DType::kIQ4_XS: return 30;  // LLAMA_FTYPE_MOSTLY_IQ4_XS
    case DType::kBF16: return 32;
    default: return 0;
  }
}

// Pieces for the stand-in vocabulary: "▁a".."▁z", "▁aa", ... (distinct, word-like).
std::string PlaceholderPiece(int64_t i) {
  std::string letters;
  do {
    letters.insert(letters.begin(), static_cast<char>('a' + i % 26));
    i = i / 26 - 1;
  } while (i >= 0);
  return "\xe2\x96\x81" + letters;
}

void AddPlaceholderVocab(GgufWriter& w, int64_t vocab) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte
  auto add = [&](std::string t, int32_t type) {
    scores.push_back(-static_cast<float>(tokens.size()));
    tokens.push_back(std::move(t));
    types.push_back(type);
  };
  add("<unk>", 2);
  add("<s>", 3);
  add("</s>", 3);
  char hex[8];
  for (int b = 0; b < 256 && static_cast<int64_t>(tokens.size()) < vocab; ++b) {
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    add(hex, 6);
  }
  for (int64_t i = 0; static_cast<int64_t>(tokens.size()) < vocab; ++i) add(PlaceholderPiece(i), 1);
  tokens.resize(static_cast<size_t>(vocab)), scores.resize(tokens.size()), types.resize(tokens.size());
  w.SetString("tokenizer.ggml.model", "llama");
  w.SetStrings("tokenizer.ggml.tokens", tokens);
  w.SetF32s("tokenizer.ggml.scores", scores);
  w.SetI32s("tokenizer.ggml.token_type", types);
  w.SetU32("tokenizer.ggml.unknown_token_id", 0);
}

}  // namespace

namespace {

// tokenizer.* keys of `from` into `w` with their GGUF types (llama.cpp rejects a key whose type
// differs from the one it expects), except keys `w` already has.
Status CopyTokenizerKeys(const GgufFile& from, GgufWriter& w) {
  constexpr int kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8;
  for (const auto& [key, value] : from.metadata().items()) {
    if (key.rfind("tokenizer.", 0) != 0 || w.HasKey(key)) continue;
    const int type = from.metadata_type(key);
    const bool fits = (type == kU32 || type == kI32) ? value.is_number_integer()
                      : type == kF32                 ? value.is_number()
                      : type == kBool                ? value.is_boolean()
                      : type == kString              ? value.is_string()
                                                     : true;
    if (!fits) return Corrupt(from.label() + ": metadata '" + key + "' does not hold its declared type");
    if (type == kU32) {
      w.SetU32(key, value.get<uint32_t>());
    } else if (type == kI32) {
      w.SetI32(key, value.get<int32_t>());
    } else if (type == kF32) {
      w.SetF32(key, value.get<float>());
    } else if (key == "tokenizer.ggml.token_type" && value.is_array() &&
               std::all_of(value.begin(), value.end(), [](const nlohmann::json& t) { return t.is_number_integer(); })) {
      w.SetI32s(key, value.get<std::vector<int32_t>>());  // an i32 array in every converter
    } else {
      ACCEL_RETURN_IF_ERROR(w.SetJson(key, value));  // strings, bools, token and merge lists, scores
    }
  }
  return Status::Ok();
}

}  // namespace

Result<GgufExportOptions> GgufExportOptionsFor(const std::string& type) {
  static const std::pair<const char*, std::pair<DType, bool>> kTypes[] = {
      {"f32", {DType::kF32, false}},    {"f16", {DType::kF16, false}},    {"bf16", {DType::kBF16, false}},
      {"q8_0", {DType::kQ8_0, false}},  {"q4_0", {DType::kQ4_0, false}},  {"q4_k", {DType::kQ4_K, false}},
      {"q4_k_s", {DType::kQ4_K, false}}, {"q4_k_m", {DType::kQ4_K, true}}, {"q5_k", {DType::kQ5_K, false}},
      {"q5_k_s", {DType::kQ5_K, false}}, {"q5_k_m", {DType::kQ5_K, true}}, {"q6_k", {DType::kQ6_K, false}},
      {"q3_k", {DType::kQ3_K, false}},  {"q3_k_s", {DType::kQ3_K, false}}, {"q2_k", {DType::kQ2_K, false}},
      {"iq4_nl", {DType::kIQ4_NL, false}}, {"iq4_xs", {DType::kIQ4_XS, false}}};
  std::string lower;
  for (char ch : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string names;
  for (const auto& [name, choice] : kTypes) {
    if (lower == name) {
      GgufExportOptions o;
      o.weight_dtype = choice.first;
      o.k_quant_mix = choice.second;
      return o;
    }
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return InvalidArgument("unknown quantization type '" + type + "' (types: " + names + ")");
}

Status WriteLlamaGguf(const std::string& path, const HfConfig& c, WeightStore& weights, const GgufExportOptions& o) {
  const std::string type = c.model_type();
  if (type != "llama" && type != "mistral" && type != "qwen2" && type != "qwen3") {
    return Unsupported(c.label() + ": GGUF export of model_type '" + type + "' (supported: llama, mistral, qwen2, qwen3)");
  }
  const bool qwen = type == "qwen2" || type == "qwen3";
  const std::string arch = qwen ? type : "llama", k = arch + ".";
  ACCEL_ASSIGN_OR_RETURN(int64_t hidden, c.Int({"hidden_size"}));
  ACCEL_ASSIGN_OR_RETURN(int64_t layers, c.Int({"num_hidden_layers"}));
  ACCEL_ASSIGN_OR_RETURN(int64_t heads, c.Int({"num_attention_heads"}));
  ACCEL_ASSIGN_OR_RETURN(int64_t ffn, c.Int({"intermediate_size"}));
  ACCEL_ASSIGN_OR_RETURN(int64_t vocab, c.Int({"vocab_size"}));
  const int64_t kv_heads = c.IntOr("num_key_value_heads", heads);
  if (hidden <= 0 || heads <= 0 || kv_heads <= 0 || layers <= 0 || ffn <= 0 || vocab <= 0 || hidden % heads != 0 ||
      heads % kv_heads != 0) {
    return Corrupt(c.label() + ": inconsistent sizes for a GGUF export");
  }
  const int64_t head_dim = c.IntOr("head_dim", hidden / heads);
  if (head_dim <= 0 || head_dim % 2 != 0) return Corrupt(c.label() + ": head_dim " + std::to_string(head_dim));
  if (c.doc().contains("rope_scaling") && !c.doc()["rope_scaling"].is_null()) return Unsupported(c.label() + ": rope_scaling in a GGUF export");
  // Qwen2 always has q/k/v biases (written as llama.cpp does); other biases are not exported.
  if ((type != "qwen2" && c.BoolOr("attention_bias", false)) || c.BoolOr("mlp_bias", false)) {
    return Unsupported(c.label() + ": biases in a GGUF export");
  }
  if (c.Has("sliding_window") && c.doc()["sliding_window"].is_number_integer() && (!qwen || c.BoolOr("use_sliding_window", false))) {
    return Unsupported(c.label() + ": sliding-window attention in a GGUF export");
  }
  for (const auto& [hf, t] : o.tensor_types) {
    if (!Info(t).is_quantized) return Unsupported("a planned type for '" + hf + "' must be a block type, got " + std::string(Name(t)));
  }
  switch (o.weight_dtype) {
    case DType::kF32: case DType::kF16: case DType::kBF16: case DType::kQ8_0: case DType::kQ4_0:
    case DType::kQ4_K: case DType::kQ5_K: case DType::kQ6_K: case DType::kQ3_K: case DType::kQ2_K: case DType::kIQ4_NL:
    case DType::kIQ4_XS: break;
    default: return Unsupported("GGUF export to " + std::string(Name(o.weight_dtype)) + " weights");
  }

  GgufWriter w;
  w.SetString("general.architecture", arch);
  w.SetString("general.name", o.name);
  w.SetU32("general.alignment", 32);
  w.SetU32("general.file_type", FileType(o.weight_dtype));
  w.SetU32(k + "context_length", static_cast<uint32_t>(c.IntOr("max_position_embeddings", 2048)));
  w.SetU32(k + "embedding_length", static_cast<uint32_t>(hidden));
  w.SetU32(k + "block_count", static_cast<uint32_t>(layers));
  w.SetU32(k + "feed_forward_length", static_cast<uint32_t>(ffn));
  w.SetU32(k + "attention.head_count", static_cast<uint32_t>(heads));
  w.SetU32(k + "attention.head_count_kv", static_cast<uint32_t>(kv_heads));
  w.SetU32(k + "rope.dimension_count", static_cast<uint32_t>(head_dim));
  w.SetF32(k + "rope.freq_base", static_cast<float>(c.FloatOr("rope_theta", 10000.0)));
  w.SetF32(k + "attention.layer_norm_rms_epsilon", static_cast<float>(c.FloatOr("rms_norm_eps", 1e-6)));
  w.SetU32(k + "vocab_size", static_cast<uint32_t>(vocab));
  if (head_dim != hidden / heads) {
    w.SetU32(k + "attention.key_length", static_cast<uint32_t>(head_dim));
    w.SetU32(k + "attention.value_length", static_cast<uint32_t>(head_dim));
  }
  // Special ids as llama.cpp's converter writes them; the stand-in vocabulary has <s> 1, </s> 2.
  const int64_t bos = c.IntOr("bos_token_id", o.placeholder_vocab ? 1 : -1);
  int64_t eos = o.placeholder_vocab ? 2 : -1;
  if (c.doc().contains("eos_token_id")) {
    const auto& e = c.doc()["eos_token_id"];
    if (e.is_number_integer()) eos = e.get<int64_t>();
    if (e.is_array() && !e.empty() && e.front().is_number_integer()) eos = e.front().get<int64_t>();
  }
  if (bos >= 0) w.SetU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  if (eos >= 0) w.SetU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
  if (o.placeholder_vocab) AddPlaceholderVocab(w, vocab);
  if (o.tokenizer_source) ACCEL_RETURN_IF_ERROR(CopyTokenizerKeys(*o.tokenizer_source, w));
  for (const auto& [key, value] : o.extra_metadata) ACCEL_RETURN_IF_ERROR(w.SetJson(key, value));

  // Each converted tensor is owned by the writer's copy until Write() has streamed it.
  // llama-quantize's _M recipes for K-quants: the output head and, in the first and last eighth
  // of the layers and every third between, attn_v and ffn_down get Q6_K (use_more_bits).
  // Rows that are not whole 256-blocks fall back to Q8_0, as llama-quantize falls back to a
  // 32-block type.
  // IQ4_NL's Linear takes Q8_K activations too, so it needs the same whole 256s.
  const bool kquant = quant::IsKQuant(o.weight_dtype);
  auto more_bits = [&](int64_t l) { return l < layers / 8 || l >= 7 * layers / 8 || (l - layers / 8) % 3 == 2; };
  auto type_for = [&](const std::string& gguf, const Shape& shape) {
    if (!kquant) return o.weight_dtype;
    if (shape.back() % 256 != 0) return DType::kQ8_0;
    if (!o.k_quant_mix) return o.weight_dtype;
    if (gguf == "output.weight") return DType::kQ6_K;
    const auto dot = gguf.find('.', 4);
    const bool v_or_down = gguf.find("attn_v.") != std::string::npos || gguf.find("ffn_down.") != std::string::npos;
    if (v_or_down && gguf.rfind("blk.", 0) == 0 && more_bits(std::stoll(gguf.substr(4, dot - 4)))) return DType::kQ6_K;
    return o.weight_dtype;
  };
  if (o.imatrix) {
    for (const auto& [name, v] : o.imatrix->values) {
      if (!weights.Has(name)) return InvalidArgument("the importance matrix has '" + name + "', which is not a weight of " + c.label());
    }
  }
  auto add = [&](const std::string& gguf, const std::string& hf, const Shape& shape, bool projection,
                 int64_t rotary_heads) -> Status {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, weights.Get(hf, shape));
    // q/k row permutations move rows, not columns: the importance per column still applies.
    if (rotary_heads > 0) { ACCEL_ASSIGN_OR_RETURN(t, PermuteRotaryRows(t, rotary_heads)); }
    const auto planned = o.tensor_types.find(hf);
    const DType to = !projection ? DType::kF32 : planned != o.tensor_types.end() ? planned->second : type_for(gguf, shape);
    if (quant::IsKQuant(to) && shape.back() % 256 != 0) {
      return InvalidArgument("'" + hf + "' has rows of " + std::to_string(shape.back()) + ", not whole 256-blocks for " + std::string(Name(to)));
    }
    ACCEL_ASSIGN_OR_RETURN(const float* importance, ImportanceFor(o.imatrix, hf, shape, to));
    ACCEL_ASSIGN_OR_RETURN(t, ConvertTo(t, to, {o.search, importance}));
    return w.AddTensor(gguf, t);
  };
  ACCEL_RETURN_IF_ERROR(add("token_embd.weight", "model.embed_tokens.weight", {vocab, hidden}, false, 0));
  for (int64_t l = 0; l < layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".", p = "model.layers." + std::to_string(l) + ".";
    ACCEL_RETURN_IF_ERROR(add(b + "attn_norm.weight", p + "input_layernorm.weight", {hidden}, false, 0));
    const int64_t rq = qwen ? 0 : heads, rk = qwen ? 0 : kv_heads;  // rotary permutation: llama only
    ACCEL_RETURN_IF_ERROR(add(b + "attn_q.weight", p + "self_attn.q_proj.weight", {heads * head_dim, hidden}, true, rq));
    ACCEL_RETURN_IF_ERROR(add(b + "attn_k.weight", p + "self_attn.k_proj.weight", {kv_heads * head_dim, hidden}, true, rk));
    ACCEL_RETURN_IF_ERROR(add(b + "attn_v.weight", p + "self_attn.v_proj.weight", {kv_heads * head_dim, hidden}, true, 0));
    ACCEL_RETURN_IF_ERROR(add(b + "attn_output.weight", p + "self_attn.o_proj.weight", {hidden, heads * head_dim}, true, 0));
    if (type == "qwen2") {
      ACCEL_RETURN_IF_ERROR(add(b + "attn_q.bias", p + "self_attn.q_proj.bias", {heads * head_dim}, false, 0));
      ACCEL_RETURN_IF_ERROR(add(b + "attn_k.bias", p + "self_attn.k_proj.bias", {kv_heads * head_dim}, false, 0));
      ACCEL_RETURN_IF_ERROR(add(b + "attn_v.bias", p + "self_attn.v_proj.bias", {kv_heads * head_dim}, false, 0));
    }
    if (type == "qwen3") {
      ACCEL_RETURN_IF_ERROR(add(b + "attn_q_norm.weight", p + "self_attn.q_norm.weight", {head_dim}, false, 0));
      ACCEL_RETURN_IF_ERROR(add(b + "attn_k_norm.weight", p + "self_attn.k_norm.weight", {head_dim}, false, 0));
    }
    ACCEL_RETURN_IF_ERROR(add(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", {hidden}, false, 0));
    ACCEL_RETURN_IF_ERROR(add(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", {ffn, hidden}, true, 0));
    ACCEL_RETURN_IF_ERROR(add(b + "ffn_up.weight", p + "mlp.up_proj.weight", {ffn, hidden}, true, 0));
    ACCEL_RETURN_IF_ERROR(add(b + "ffn_down.weight", p + "mlp.down_proj.weight", {hidden, ffn}, true, 0));
  }
  ACCEL_RETURN_IF_ERROR(add("output_norm.weight", "model.norm.weight", {hidden}, false, 0));
  if (weights.Has("lm_head.weight") && !c.BoolOr("tie_word_embeddings", false)) {
    ACCEL_RETURN_IF_ERROR(add("output.weight", "lm_head.weight", {vocab, hidden}, true, 0));
  }
  const auto unused = weights.Unused();
  if (!unused.empty()) return Unsupported(weights.label() + ": tensor '" + unused.front() + "' has no place in a " + arch + " GGUF");
  return w.Write(path);
}

}  // namespace accel
