#pragma once
// The one forward pass of every decoder-only template: embeddings (+ learned positions),
// layers of attention over a KV cache and an MLP with the residual pattern of the spec, final
// norm, LM head. Also greedy generation for `accel verify`.
#include <memory>

#include "models/causal_lm.h"
#include "models/decoder/decoder_spec.h"
#include "models/model.h"

namespace accel::decoder {

class DecoderModel final : public Model, public TextGenerator, public CausalLm {
 public:
  DecoderModel(DecoderSpec spec, DecoderWeights weights);

  const std::string& architecture() const override { return spec_.architecture; }
  std::vector<std::string> required_inputs() const override { return {"input_ids"}; }
  std::vector<std::string> optional_inputs() const override { return {"attention_mask"}; }
  Result<TensorMap> Forward(Exec& exec, const TensorMap& inputs) override;
  Result<Tensor> GenerateGreedy(Exec& exec, const GenerateRequest& request) override;

  int64_t vocab_size() const override { return spec_.vocab; }
  int64_t max_positions() const override { return spec_.max_positions; }
  const std::vector<int64_t>& eos_token_ids() const override { return spec_.eos_token_ids; }
  Result<std::unique_ptr<KvCache>> NewCache(Exec& ex, int64_t batch, int64_t capacity,
                                                    DType kv_dtype = DType::kF32) override;
  Result<Tensor> Step(Exec& exec, KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                      bool all_logits = false) override;

  const DecoderSpec& spec() const { return spec_; }

  // Token embeddings of ids [batch, n] on the device (scaled as the spec says): the
  // inputs_embeds a multimodal model edits before StepEmbeds.
  Result<Tensor> Embed(Exec& ex, const Tensor& ids);
  // Step() from embeddings [batch, n, hidden] instead of ids; positions from the mask as in
  // generation, or the slot index when !positions_from_mask (HF's forward()).
  Result<Tensor> StepEmbeds(Exec& ex, KvCache& cache, const Tensor& embeds, const std::vector<uint8_t>& mask,
                            bool all_logits, bool positions_from_mask);
  // Forward() whose prompt embeddings are given (`embeds` [batch, n, hidden] for ids [batch, n]).
  Result<TensorMap> ForwardEmbeds(Exec& ex, const Tensor& ids, const Tensor* attention_mask, const Tensor& embeds);
  // GenerateGreedy() whose prompt is prefilled from `prompt_embeds` (null: from input_ids);
  // input_ids still gives the prompt ids that start the output.
  Result<Tensor> GenerateGreedyFrom(Exec& ex, const GenerateRequest& request, const Tensor* prompt_embeds);

 private:
  Result<Tensor> Run(Exec& ex, KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask, bool all_logits,
                     bool positions_from_mask);
  Result<Tensor> RunEmbedded(Exec& ex, KvCache& cache, Tensor x, const std::vector<uint8_t>& mask, bool all_logits,
                             bool positions_from_mask);
  // Per-step data every layer reads, uploaded once: positions i64 [batch * n], the cache's
  // mask u8 [batch, capacity], and (ALiBi) key positions f32 [batch, capacity].
  struct StepInputs {
    Tensor positions, allowed, key_positions;
  };
  Result<Tensor> Norm(Exec& ex, const Tensor& x, const NormWeights& w);
  Result<Tensor> Attention(Exec& ex, KvCache& cache, int64_t layer, const Tensor& h, const StepInputs& in);
  Result<Tensor> Mlp(Exec& ex, const DecoderLayerWeights& l, const Tensor& h);

  DecoderSpec spec_;
  DecoderWeights w_;
};

}  // namespace accel::decoder
