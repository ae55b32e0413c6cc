#include "runtime/text_embedding.h"

#include <algorithm>

namespace accel {

Result<Tensor> EmbedTexts(LoadedModel& model, Tokenizer& tokenizer, const std::vector<std::string>& texts,
                          const TextEmbeddingOptions& options) {
  if (texts.empty()) return InvalidArgument("no text to embed");
  const HfConfig& cfg = model.config();
  // RoBERTa-style positions start after padding_idx, so they run out pad_token_id + 1 early.
  const int64_t max_positions = cfg.IntOr("max_position_embeddings", cfg.IntOr("n_positions", 512));
  const bool roberta_like = cfg.model_type() == "roberta" || cfg.model_type() == "xlm-roberta" || cfg.model_type() == "camembert";
  const int64_t usable = max_positions - (roberta_like ? cfg.IntOr("pad_token_id", 1) + 1 : 0);
  if (usable <= 0) return Corrupt(cfg.label() + ": max_position_embeddings leaves no room for tokens");
  if (!tokenizer.truncation() || tokenizer.truncation()->max_length > static_cast<size_t>(usable)) {
    TruncationParams t = tokenizer.truncation().value_or(TruncationParams{});
    t.max_length = static_cast<size_t>(usable);
    tokenizer.SetTruncation(t);
  }
  if (!tokenizer.padding()) {
    PaddingParams p;
    p.pad_id = cfg.IntOr("pad_token_id", 0);
    tokenizer.SetPadding(p);
  }
  ACCEL_ASSIGN_OR_RETURN(std::vector<Encoding> enc, tokenizer.EncodeBatch(texts));
  const int64_t batch = static_cast<int64_t>(enc.size());
  int64_t seq = 0;
  for (const auto& e : enc) seq = std::max<int64_t>(seq, static_cast<int64_t>(e.ids.size()));
  ACCEL_ASSIGN_OR_RETURN(Tensor ids, Tensor::Zeros(DType::kI64, {batch, seq}));
  ACCEL_ASSIGN_OR_RETURN(Tensor mask, Tensor::Zeros(DType::kI64, {batch, seq}));
  ACCEL_ASSIGN_OR_RETURN(Tensor types, Tensor::Zeros(DType::kI64, {batch, seq}));
  for (int64_t b = 0; b < batch; ++b) {
    const Encoding& e = enc[b];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      ids.data<int64_t>()[b * seq + t] = e.ids[t];
      mask.data<int64_t>()[b * seq + t] = t < e.attention_mask.size() ? e.attention_mask[t] : 1;
      types.data<int64_t>()[b * seq + t] = t < e.type_ids.size() ? e.type_ids[t] : 0;
    }
  }
  TensorMap inputs{{"input_ids", ids}, {"attention_mask", mask}};
  auto accepted = model.model().optional_inputs();
  if (std::find(accepted.begin(), accepted.end(), "token_type_ids") != accepted.end()) inputs["token_type_ids"] = types;
  ACCEL_ASSIGN_OR_RETURN(TensorMap out, model.Run(inputs));
  auto hidden = out.find("last_hidden_state");
  if (hidden == out.end()) return Unsupported(model.model().architecture() + " has no last_hidden_state to pool");
  return PoolSentences(hidden->second, &mask, options.pooling, options.normalize);
}

}  // namespace accel
