#include "runtime/generation/generator.h"

#include <algorithm>

#include "runtime/devices.h"
#include "runtime/generation/sequence_state.h"

namespace accel::generation {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

}  // namespace

Result<GenerationResult> Generator::Run(const std::vector<std::vector<int64_t>>& prompts, const GenerationOptions& o,
                                        const TokenCallback& on_token, const TextDecoder& decode,
                                        const TextCallback& on_text) {
  ACCEL_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  if (prompts.empty()) return InvalidArgument("no prompt to generate from");
  const int64_t vocab = model_.vocab_size();
  size_t longest = 0;
  for (const auto& p : prompts) {
    ACCEL_RETURN_IF_ERROR(ValidateSequence(p, o, vocab, static_cast<bool>(decode)));
    longest = std::max(longest, p.size());
  }
  const int64_t batch = static_cast<int64_t>(prompts.size()), plen = static_cast<int64_t>(longest);
  const int64_t limit = o.max_context > 0 ? std::min(o.max_context, model_.max_positions()) : model_.max_positions();
  if (plen > limit) {
    return InvalidArgument("prompt of " + std::to_string(plen) + " tokens exceeds the context limit of " + std::to_string(limit));
  }
  const int64_t capacity = std::min(plen + o.max_new_tokens, limit);
  Exec exec(backend_, arena_, &HostBackend());
  if (!cache_ || cache_->dtype() != o.kv_cache_dtype || !cache_->Fits(batch, capacity, cache_->kv_width(), cache_->layers())) {
    cache_.reset();  // free the old one before allocating the new
    ACCEL_ASSIGN_OR_RETURN(cache_, model_.NewCache(exec, batch, capacity, o.kv_cache_dtype));
  } else {
    cache_->Reset();
  }

  GenerationResult result;
  result.rows.resize(static_cast<size_t>(batch));
  result.kv_cache_bytes = cache_->bytes();
  result.kv_cache_capacity = capacity;  // the cache may be larger, kept from an earlier request
  // Left padding: every row's last prompt token sits in the same column.
  ACCEL_ASSIGN_OR_RETURN(Tensor ids, Tensor::Zeros(DType::kI64, {batch, plen}));
  std::vector<uint8_t> mask(static_cast<size_t>(batch * plen), 0);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& p = prompts[b];
    const int64_t pad = plen - static_cast<int64_t>(p.size());
    for (int64_t i = 0; i < plen; ++i) {
      ids.data<int64_t>()[b * plen + i] = i < pad ? o.pad_token_id : p[i - pad];
      mask[b * plen + i] = i >= pad;
    }
    result.prompt_tokens += static_cast<int64_t>(p.size());
  }
  // Rows draw independent, reproducible streams: seed + row.
  std::vector<SequenceState> rows;
  rows.reserve(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) rows.emplace_back(prompts[b], o, o.sampling.seed + static_cast<uint64_t>(b), &decode);

  const auto t0 = Clock::now();
  Tensor feed = ids;
  std::vector<uint8_t> feed_mask = mask;
  auto all_done = [&] { return std::all_of(rows.begin(), rows.end(), [](const SequenceState& r) { return r.done(); }); };
  for (int64_t step = 0; step < o.max_new_tokens && !all_done(); ++step) {
    if (cache_->length() + feed.dim(1) > capacity) {
      for (auto& r : rows) r.End("context_limit");  // the context limit, not max_new_tokens, ended it
      break;
    }
    const auto s0 = Clock::now();
    auto logits = model_.Step(exec, *cache_, feed, feed_mask);
    arena_.Reset();
    if (!logits.ok()) {
      cache_->Reset();
      return logits.status();
    }
    if (step == 0) result.prefill_ms = Ms(s0, Clock::now());
    ACCEL_ASSIGN_OR_RETURN(feed, Tensor::Zeros(DType::kI64, {batch, 1}));
    feed_mask.assign(static_cast<size_t>(batch), 1);
    for (int64_t b = 0; b < batch; ++b) {
      SequenceState& row = rows[static_cast<size_t>(b)];
      if (row.done()) {
        feed.data<int64_t>()[b] = o.pad_token_id;
        feed_mask[b] = 0;  // finished rows ride along as padding
        continue;
      }
      const SequenceState::Emitted e = row.Next(logits->data<float>() + b * vocab, vocab);
      feed.data<int64_t>()[b] = e.token;
      ++result.generated_tokens;
      const bool keep_going = !on_token || on_token(b, e.token);
      if (on_text && !e.text.empty()) on_text(b, e.text);
      if (!keep_going) row.End("callback");
    }
    if (step == 0) result.ttft_ms = Ms(t0, Clock::now());
  }
  result.decode_ms = Ms(t0, Clock::now()) - result.ttft_ms;
  // Whatever a row still holds back is its text after all.
  for (int64_t b = 0; b < batch; ++b) {
    const std::string rest = rows[static_cast<size_t>(b)].Finish();
    if (on_text && !rest.empty()) on_text(b, rest);
    result.rows[static_cast<size_t>(b)] = rows[static_cast<size_t>(b)].result();
  }
  return result;
}

}  // namespace accel::generation
