#include "runtime/chunked_eval.h"

#include <algorithm>
#include <string>

#include "runtime/devices.h"

namespace accel {

Result<int64_t> ChunkCount(size_t tokens, const ChunkOptions& o) {
  if (o.ctx < 2) return InvalidArgument("--ctx must be at least 2 tokens, got " + std::to_string(o.ctx));
  int64_t n = static_cast<int64_t>(tokens) / o.ctx;
  if (n == 0) {
    return InvalidArgument("the text has " + std::to_string(tokens) + " tokens, fewer than one chunk of --ctx " + std::to_string(o.ctx));
  }
  if (o.max_chunks > 0 && n > o.max_chunks) n = o.max_chunks;
  return n;
}

Status RunChunks(LoadedModel& model, const std::vector<int64_t>& tokens, const ChunkOptions& o, LinearObserver* observer,
                 const ChunkFn& on_chunk) {
  CausalLm* lm = model.causal_lm();
  if (lm == nullptr) return Unsupported(model.model().architecture() + " is not a decoder-only language model");
  ACCEL_ASSIGN_OR_RETURN(int64_t chunks, ChunkCount(tokens.size(), o));
  if (o.ctx > lm->max_positions()) {
    return InvalidArgument("--ctx " + std::to_string(o.ctx) + " exceeds the model's context of " + std::to_string(lm->max_positions()));
  }
  Arena arena(1 << 20, &model.backend().allocator());
  Exec exec(model.backend(), arena, &HostBackend());
  exec.set_linear_observer(observer);
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<decoder::KvCache> cache, lm->NewCache(exec, 1, o.ctx));
  const std::vector<uint8_t> mask(static_cast<size_t>(o.ctx), 1);
  std::vector<int64_t> ids(static_cast<size_t>(o.ctx));
  for (int64_t c = 0; c < chunks; ++c) {
    ids.assign(tokens.begin() + c * o.ctx, tokens.begin() + (c + 1) * o.ctx);
    if (o.bos) ids[0] = *o.bos;
    for (int64_t id : ids) {
      if (id < 0 || id >= lm->vocab_size()) {
        return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(lm->vocab_size()));
      }
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor in, Tensor::Zeros(DType::kI64, {1, o.ctx}));
    std::copy(ids.begin(), ids.end(), in.data<int64_t>());
    cache->Reset();
    auto logits = lm->Step(exec, *cache, in, mask, /*all_logits=*/true);
    arena.Reset();
    if (!logits.ok()) return logits.status();
    ACCEL_ASSIGN_OR_RETURN(Tensor rows, logits->Reshape({o.ctx, lm->vocab_size()}));
    ACCEL_RETURN_IF_ERROR(on_chunk(c, ids, rows));
  }
  return Status::Ok();
}

}  // namespace accel
