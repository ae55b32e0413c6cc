// The synthetic models' configs and weights, one maker per template. Real sizes are those of
// the public checkpoints the names refer to; reduced sizes keep the structure.
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/half.h"
#include "formats/quant.h"
#include "models/synthetic/builder.h"

namespace accel::synthetic::detail {

Result<SyntheticModel> MakeBertLike(const std::string& name, const std::string& model_type, Size size, uint64_t seed) {
  const bool real = size == Size::kReal, roberta = model_type == "roberta";
  const int64_t h = real ? 768 : 96, f = real ? 3072 : 384, layers = real ? 12 : 2;
  const int64_t vocab = real ? (roberta ? 50265 : 30522) : 1000;
  // RoBERTa's positions start after the padding index, hence two more rows.
  const int64_t max_pos = (real ? 512 : 128) + (roberta ? 2 : 0), type_vocab = roberta ? 1 : 2;
  nlohmann::json cfg = {{"model_type", model_type}, {"architectures", {roberta ? "RobertaModel" : "BertModel"}},
                        {"vocab_size", vocab}, {"hidden_size", h}, {"num_hidden_layers", layers},
                        {"num_attention_heads", 12}, {"intermediate_size", f}, {"hidden_act", "gelu"},
                        {"max_position_embeddings", max_pos}, {"type_vocab_size", type_vocab},
                        {"layer_norm_eps", 1e-12}, {"pad_token_id", roberta ? 1 : 0}};
  Builder b(seed);
  b.Random("embeddings.word_embeddings.weight", {vocab, h}, 0.02f);
  b.Random("embeddings.position_embeddings.weight", {max_pos, h}, 0.02f);
  b.Random("embeddings.token_type_embeddings.weight", {type_vocab, h}, 0.02f);
  b.Norm("embeddings.LayerNorm", h);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    b.Linear(p + "attention.self.query", h, h);
    b.Linear(p + "attention.self.key", h, h);
    b.Linear(p + "attention.self.value", h, h);
    b.Linear(p + "attention.output.dense", h, h);
    b.Norm(p + "attention.output.LayerNorm", h);
    b.Linear(p + "intermediate.dense", f, h);
    b.Linear(p + "output.dense", h, f);
    b.Norm(p + "output.LayerNorm", h);
  }
  b.Linear("pooler.dense", h, h);
  return b.Finish(cfg, name);
}

// ViT-B/16 at 224 x 224 as a ViTModel: patch embedding by a stride-16 convolution, a class
// token, learned positions, 12 pre-LN layers, a final LayerNorm and the tanh pooler.
Result<SyntheticModel> MakeVit(const std::string& name, Size size, uint64_t seed) {
  const bool real = size == Size::kReal;
  const int64_t h = real ? 768 : 96, f = real ? 3072 : 384, layers = real ? 12 : 2, image = real ? 224 : 64, patch = 16;
  const int64_t tokens = (image / patch) * (image / patch) + 1;
  nlohmann::json cfg = {{"model_type", "vit"}, {"architectures", {"ViTModel"}}, {"hidden_size", h},
                        {"num_hidden_layers", layers}, {"num_attention_heads", 12}, {"intermediate_size", f},
                        {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-12}, {"image_size", image},
                        {"patch_size", patch}, {"num_channels", 3}, {"qkv_bias", true}};
  Builder b(seed);
  b.Random("embeddings.cls_token", {1, 1, h}, 0.02f);
  b.Random("embeddings.position_embeddings", {1, tokens, h}, 0.02f);
  b.Conv("embeddings.patch_embeddings.projection", {h, 3, patch, patch});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    b.Norm(p + "layernorm_before", h);
    b.Linear(p + "attention.attention.query", h, h);
    b.Linear(p + "attention.attention.key", h, h);
    b.Linear(p + "attention.attention.value", h, h);
    b.Linear(p + "attention.output.dense", h, h);
    b.Norm(p + "layernorm_after", h);
    b.Linear(p + "intermediate.dense", f, h);
    b.Linear(p + "output.dense", h, f);
  }
  b.Norm("layernorm", h);
  b.Linear("pooler.dense", h, h);
  return b.Finish(cfg, name);
}

namespace {
// Whisper's encoder positions are fixed sinusoids stored in the checkpoint: for channel pair i
// of `width / 2`, sin(t * r^i) in the first half of the row and cos(t * r^i) in the second,
// with r = 10000^(-1 / (width / 2 - 1)).
void Sinusoids(float* table, int64_t length, int64_t width) {
  const int64_t half = width / 2;
  const double step = std::log(10000.0) / static_cast<double>(half - 1);
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(t) * std::exp(-step * static_cast<double>(i));
      table[t * width + i] = static_cast<float>(std::sin(angle));
      table[t * width + half + i] = static_cast<float>(std::cos(angle));
    }
  }
}

void Attention(Builder& b, const std::string& p, int64_t d) {
  b.Linear(p + "q_proj", d, d);
  b.Linear(p + "k_proj", d, d, /*bias=*/false);  // Whisper's key projections have no bias
  b.Linear(p + "v_proj", d, d);
  b.Linear(p + "out_proj", d, d);
}
}  // namespace

// WhisperForConditionalGeneration as openai/whisper-base is configured (the output projection
// is tied to the token embedding and, as in HF checkpoints, not stored).
Result<SyntheticModel> MakeWhisper(const std::string& name, Size size, uint64_t seed) {
  const bool real = size == Size::kReal;
  const int64_t d = real ? 512 : 64, f = real ? 2048 : 256, layers = real ? 6 : 2, mels = 80;
  const int64_t source = real ? 1500 : 50, target = real ? 448 : 32, vocab = real ? 51865 : 1000;
  const int64_t eot = real ? 50257 : vocab - 3;  // end of text = pad = bos; start of transcript follows
  nlohmann::json cfg = {{"model_type", "whisper"}, {"architectures", {"WhisperForConditionalGeneration"}},
                        {"vocab_size", vocab}, {"num_mel_bins", mels}, {"d_model", d},
                        {"encoder_layers", layers}, {"decoder_layers", layers}, {"encoder_attention_heads", 8},
                        {"decoder_attention_heads", 8}, {"encoder_ffn_dim", f}, {"decoder_ffn_dim", f},
                        {"max_source_positions", source}, {"max_target_positions", target},
                        {"activation_function", "gelu"}, {"scale_embedding", false}, {"tie_word_embeddings", true},
                        {"pad_token_id", eot}, {"bos_token_id", eot}, {"eos_token_id", eot},
                        {"decoder_start_token_id", eot + 1}, {"is_encoder_decoder", true}};
  Builder b(seed);
  const std::string e = "model.encoder.", dd = "model.decoder.";
  b.Conv(e + "conv1", {d, mels, 3});
  b.Conv(e + "conv2", {d, d, 3});
  Sinusoids(b.New(e + "embed_positions.weight", {source, d}), source, d);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = e + "layers." + std::to_string(i) + ".";
    b.Norm(p + "self_attn_layer_norm", d);
    Attention(b, p + "self_attn.", d);
    b.Norm(p + "final_layer_norm", d);
    b.Linear(p + "fc1", f, d);
    b.Linear(p + "fc2", d, f);
  }
  b.Norm(e + "layer_norm", d);
  b.Random(dd + "embed_tokens.weight", {vocab, d}, 0.02f);
  b.Random(dd + "embed_positions.weight", {target, d}, 0.02f);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = dd + "layers." + std::to_string(i) + ".";
    b.Norm(p + "self_attn_layer_norm", d);
    Attention(b, p + "self_attn.", d);
    b.Norm(p + "encoder_attn_layer_norm", d);
    Attention(b, p + "encoder_attn.", d);
    b.Norm(p + "final_layer_norm", d);
    b.Linear(p + "fc1", f, d);
    b.Linear(p + "fc2", d, f);
  }
  b.Norm(dd + "layer_norm", d);
  return b.Finish(cfg, name);
}

}  // namespace accel::synthetic::detail

namespace accel::synthetic {
namespace {

Result<Tensor> StoreAs(const Tensor& f32, DType to) {
  if (to == DType::kF32) return f32;
  if (accel::Info(to).is_quantized) return quant::Quantize(f32, to);
  if (to != DType::kBF16 && to != DType::kF16)
    return Unsupported("weights cannot be stored as " + std::string(Name(to)) + " (f32, f16, bf16 or a quantized type)");
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(to, f32.shape()));
  const float* src = f32.data<float>();
  uint16_t* dst = out.data<uint16_t>();
  for (size_t i = 0; i < f32.numel(); ++i) dst[i] = to == DType::kBF16 ? F32ToBf16(src[i]) : F32ToF16(src[i]);
  return out;
}

}  // namespace

// LlamaForCausalLM with an untied output head. Projections are drawn at 1/sqrt(fan_in) and
// norms at 1, so activations keep their scale through the layers whatever the depth.
Result<SyntheticModel> MakeLlama(const std::string& name, const LlamaShape& s, DType weights, uint64_t seed) {
  if (s.heads <= 0 || s.kv_heads <= 0 || s.hidden % s.heads != 0 || s.heads % s.kv_heads != 0)
    return InvalidArgument("synthetic " + name + ": hidden, heads and kv_heads do not divide");
  const int64_t kv_width = s.kv_heads * (s.hidden / s.heads);
  nlohmann::json cfg = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"hidden_size", s.hidden},
                        {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads},
                        {"num_key_value_heads", s.kv_heads}, {"intermediate_size", s.ffn}, {"vocab_size", s.vocab},
                        {"max_position_embeddings", 8192}, {"rms_norm_eps", 1e-5}, {"tie_word_embeddings", false},
                        {"bos_token_id", 1}, {"eos_token_id", 2}};
  detail::Builder b(seed);
  // Projections are converted as soon as they are drawn, so an f32 copy of the whole model
  // never exists beside the result.
  auto projection = [&](const std::string& proj, int64_t out, int64_t in) -> Status {
    b.Linear(proj, out, in, /*bias=*/false);
    Tensor& w = b.tensors.at(proj + ".weight");
    auto stored = StoreAs(w, weights);
    if (!stored.ok()) return stored.status().WithContext(proj + ".weight");
    w = std::move(*stored);
    return Status::Ok();
  };
  b.Random("model.embed_tokens.weight", {s.vocab, s.hidden}, 1.0f);
  b.Fill("model.norm.weight", {s.hidden}, 1.0f);
  ACCEL_RETURN_IF_ERROR(projection("lm_head", s.vocab, s.hidden));
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    b.Fill(p + "input_layernorm.weight", {s.hidden}, 1.0f);
    b.Fill(p + "post_attention_layernorm.weight", {s.hidden}, 1.0f);
    ACCEL_RETURN_IF_ERROR(projection(p + "self_attn.q_proj", s.hidden, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "self_attn.k_proj", kv_width, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "self_attn.v_proj", kv_width, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "self_attn.o_proj", s.hidden, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "mlp.gate_proj", s.ffn, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "mlp.up_proj", s.ffn, s.hidden));
    ACCEL_RETURN_IF_ERROR(projection(p + "mlp.down_proj", s.hidden, s.ffn));
  }
  return b.Finish(cfg, name);
}

}  // namespace accel::synthetic
