#include "runtime/generation/generator.h"

#include <algorithm>

#include "runtime/devices.h"
#include "runtime/generation/stop_strings.h"

namespace accel::generation {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// A row's text as its tokens arrive: each decode of all its tokens that extends the last one
// yields the new part. A decode ending in U+FFFD may be a character still missing bytes, so
// that tail waits for the next token (and is released at the end if it stays).
class RowText {
 public:
  RowText(const TextDecoder& decode, const std::vector<std::string>& stops) : decode_(decode), filter_(stops) {}
  // The text that became showable with the row's latest token.
  std::string Update(const std::vector<int64_t>& tokens) {
    const std::string full = decode_(tokens);
    static const std::string kReplacement = "\xEF\xBF\xBD";
    size_t usable = full.size();
    while (usable >= kReplacement.size() && full.compare(usable - kReplacement.size(), kReplacement.size(), kReplacement) == 0) {
      usable -= kReplacement.size();
    }
    if (usable < seen_.size() || full.compare(0, seen_.size(), seen_) != 0) return {};  // earlier text changed: wait
    std::string delta = full.substr(seen_.size(), usable - seen_.size());
    seen_ = full.substr(0, usable);
    return filter_.Push(delta);
  }
  // The rest of the stream once the row is complete, and the row's final text: the decode of
  // all its tokens, cut before the first stop string. The two agree unless a later token
  // rewrote earlier text (a run of bytes that is not UTF-8 decodes to one U+FFFD per byte).
  std::string Finish(const std::vector<int64_t>& tokens, const std::vector<std::string>& stops, std::string* final_text) {
    const std::string full = decode_(tokens);
    std::string out;
    if (!filter_.stopped() && full.size() > seen_.size() && full.compare(0, seen_.size(), seen_) == 0) {
      out = filter_.Push(full.substr(seen_.size()));
    }
    out += filter_.Finish();
    size_t cut = std::string::npos;
    for (const auto& s : stops) {
      if (!s.empty()) cut = std::min(cut, full.find(s));
    }
    *final_text = full.substr(0, cut);
    return out;
  }
  bool stopped() const { return filter_.stopped(); }

 private:
  const TextDecoder& decode_;
  std::string seen_;
  StopStringFilter filter_;
};
}  // namespace

Result<GenerationResult> Generator::Run(const std::vector<std::vector<int64_t>>& prompts, const GenerationOptions& o,
                                        const TokenCallback& on_token, const TextDecoder& decode,
                                        const TextCallback& on_text) {
  ACCEL_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  if (prompts.empty()) return InvalidArgument("no prompt to generate from");
  if (o.max_new_tokens < 0) return InvalidArgument("max new tokens must be >= 0");
  if (!o.stop_strings.empty() && !decode) return InvalidArgument("stop strings need a tokenizer to decode tokens");
  const int64_t vocab = model_.vocab_size();
  size_t longest = 0;
  for (const auto& p : prompts) {
    if (p.empty()) return InvalidArgument("empty prompt");
    for (int64_t t : p) {
      if (t < 0 || t >= vocab) return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(vocab));
    }
    longest = std::max(longest, p.size());
  }
  const int64_t batch = static_cast<int64_t>(prompts.size()), plen = static_cast<int64_t>(longest);
  const int64_t limit = o.max_context > 0 ? std::min(o.max_context, model_.max_positions()) : model_.max_positions();
  if (plen > limit) {
    return InvalidArgument("prompt of " + std::to_string(plen) + " tokens exceeds the context limit of " + std::to_string(limit));
  }
  const int64_t capacity = std::min(plen + o.max_new_tokens, limit);
  Exec exec(backend_, arena_, &HostBackend());
  if (!cache_ || !cache_->Fits(batch, capacity, cache_->kv_width(), cache_->layers())) {
    cache_.reset();  // free the old one before allocating the new
    ACCEL_ASSIGN_OR_RETURN(cache_, model_.NewCache(exec, batch, capacity));
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
  std::vector<std::vector<int64_t>> context(prompts.begin(), prompts.end());
  for (int64_t b = 0; b < batch; ++b) {
    const auto& p = prompts[b];
    const int64_t pad = plen - static_cast<int64_t>(p.size());
    for (int64_t i = 0; i < plen; ++i) {
      ids.data<int64_t>()[b * plen + i] = i < pad ? o.pad_token_id : p[i - pad];
      mask[b * plen + i] = i >= pad;
    }
    result.prompt_tokens += static_cast<int64_t>(p.size());
  }
  std::vector<Sampler> samplers;
  for (int64_t b = 0; b < batch; ++b) {
    SamplingParams sp = o.sampling;
    sp.seed = o.sampling.seed + static_cast<uint64_t>(b);  // rows draw independent, reproducible streams
    samplers.emplace_back(sp);
  }
  std::vector<RowText> text;
  if (decode) {
    for (int64_t b = 0; b < batch; ++b) text.emplace_back(decode, o.stop_strings);
  }
  auto emit = [&](int64_t b, const std::string& piece) {
    if (on_text && !piece.empty()) on_text(b, piece);
  };
  std::vector<bool> done(static_cast<size_t>(batch), o.max_new_tokens == 0);
  for (int64_t b = 0; b < batch && o.max_new_tokens == 0; ++b) result.rows[b].finish_reason = "length";

  const auto t0 = Clock::now();
  Tensor feed = ids;
  std::vector<uint8_t> feed_mask = mask;
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    if (cache_->length() + feed.dim(1) > capacity) {
      // The context limit, not max_new_tokens, ended generation.
      for (int64_t b = 0; b < batch; ++b) {
        if (!done[b]) result.rows[b].finish_reason = "context_limit", done[b] = true;
      }
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
      RowResult& row = result.rows[b];
      if (done[b]) {
        feed.data<int64_t>()[b] = o.pad_token_id;
        feed_mask[b] = 0;  // finished rows ride along as padding
        continue;
      }
      float* l = logits->data<float>() + b * vocab;
      const int64_t next = samplers[b].Next(l, vocab, context[b], row.tokens);
      row.tokens.push_back(next);
      context[b].push_back(next);
      feed.data<int64_t>()[b] = next;
      ++result.generated_tokens;
      const bool is_eos = std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), next) != o.eos_token_ids.end();
      const bool keep_going = !on_token || on_token(b, next);
      if (decode && !is_eos) {
        emit(b, text[b].Update(row.tokens));
        if (text[b].stopped()) row.finish_reason = "stop", done[b] = true;
      }
      if (!done[b] && !keep_going) {
        row.finish_reason = "callback", done[b] = true;
      } else if (!done[b] && is_eos) {
        row.finish_reason = "eos", done[b] = true;
      }
      if (!done[b] && static_cast<int64_t>(row.tokens.size()) >= o.max_new_tokens) row.finish_reason = "length", done[b] = true;
    }
    if (step == 0) result.ttft_ms = Ms(t0, Clock::now());
  }
  result.decode_ms = Ms(t0, Clock::now()) - result.ttft_ms;
  // Whatever a row still holds back is its text after all (the EOS token's text is not part).
  for (int64_t b = 0; b < batch && decode; ++b) {
    RowResult& row = result.rows[b];
    std::vector<int64_t> tokens = row.tokens;
    if (row.finish_reason == "eos") tokens.pop_back();
    emit(b, text[b].Finish(tokens, o.stop_strings, &row.text));
  }
  return result;
}

}  // namespace accel::generation
