#pragma once
// Implemented by decoder-only language models: feed tokens into a KV cache step by step and
// read the next-token logits. The generation loop (runtime/generation) and GenerateGreedy
// are written against this, not against any one architecture.
#include <cstdint>
#include <memory>
#include <vector>

#include "graph/exec.h"
#include "models/decoder/kv_cache.h"

namespace accel {

class CausalLm {
 public:
  virtual ~CausalLm() = default;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_positions() const = 0;
  // config.json's eos_token_id (one or several); may be empty.
  virtual const std::vector<int64_t>& eos_token_ids() const = 0;
  // A cache on the device of `exec` for `batch` rows of up to `capacity` tokens (<= max_positions()),
  // stored in kv_dtype (f32, q8_0 or q4_0: decoder/kv_cache.h; the quantized ones need a head_dim
  // that is a multiple of 32 and are refused otherwise).
  virtual Result<std::unique_ptr<decoder::KvCache>> NewCache(Exec& exec, int64_t batch, int64_t capacity,
                                                             DType kv_dtype = DType::kF32) = 0;
  // Appends ids [batch, n] (mask [batch * n], nonzero = real token, zero = left padding) to
  // the cache and returns owning host logits: [batch, vocab] of each row's last new token, or
  // [batch, n, vocab] with all_logits. The arena is the caller's to reset afterwards.
  virtual Result<Tensor> Step(Exec& exec, decoder::KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                              bool all_logits = false) = 0;
};

}  // namespace accel
