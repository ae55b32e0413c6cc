#pragma once
// A model: weights prepared for a backend at load, and a forward pass written against
// graph/exec.h. Inputs and outputs use Hugging Face's names (input_ids, attention_mask,
// last_hidden_state, pooler_output, ...), so references and pipelines map one to one.
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "formats/hf_config.h"
#include "formats/model_source.h"
#include "graph/exec.h"

namespace accel {

using TensorMap = std::map<std::string, Tensor>;

class Model {
 public:
  virtual ~Model() = default;
  virtual const std::string& architecture() const = 0;
  // Inputs the forward pass requires, and those it accepts but can default.
  virtual std::vector<std::string> required_inputs() const = 0;
  virtual std::vector<std::string> optional_inputs() const { return {}; }
  // Outputs are owning tensors (copied out of the arena).
  virtual Result<TensorMap> Forward(Exec& exec, const TensorMap& inputs) = 0;
};

// Edits one row's next-token logits in place before the greedy choice; `ids` is that row so
// far (prompt included). This is how HF's logits processors (built in runtime/generation) reach
// a model's greedy loop without the model knowing any of them.
using LogitsProcessorFn = std::function<void(const std::vector<int64_t>& ids, float* logits, int64_t vocab)>;

// What HF generate(do_sample=False) takes: the inputs (input_ids, attention_mask,
// input_features, decoder_input_ids, pixel_values, ...), the stopping rules and, optionally,
// the logits processors.
struct GenerateRequest {
  TensorMap inputs;
  int64_t max_new_tokens = 16;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  LogitsProcessorFn process_logits;  // empty = plain greedy
};

// The greedy choice every TextGenerator makes: the first maximum (as torch.argmax) of `logits`,
// after `request.process_logits` when set (on a copy kept in `scratch`).
int64_t GreedyNextToken(const GenerateRequest& request, const std::vector<int64_t>& ids, const float* logits, int64_t vocab,
                        std::vector<float>& scratch);

// Implemented by models that generate token sequences (decoders, encoder-decoders).
class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  // Greedy decoding; returns [batch, length] i64 ids laid out as HF generate() returns them
  // (prompt included for decoder-only models, decoder_start first for encoder-decoders).
  virtual Result<Tensor> GenerateGreedy(Exec& exec, const GenerateRequest& request) = 0;
};

// Everything a model's loader needs: the config, the weights (which record what was used),
// and the backend that prepares them.
struct ModelLoadContext {
  const HfConfig& config;
  WeightStore& weights;
  Backend& backend;
  DType compute = DType::kF32;  // arithmetic of linear layers (f32, or bf16 where the backend has it)

  // Reads `name` with the expected shape and prepares it as a linear layer.
  Result<LinearLayer> Linear(const std::string& name, int64_t out, int64_t in, bool bias = true);
  // Reads a float tensor with the expected shape as f32.
  Result<Tensor> F32(const std::string& name, const Shape& shape);
};

}  // namespace accel
