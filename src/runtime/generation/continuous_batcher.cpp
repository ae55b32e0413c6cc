#include "runtime/generation/continuous_batcher.h"

#include <algorithm>
#include <chrono>

#include "runtime/devices.h"
#include "runtime/generation/sequence_state.h"

namespace accel::generation {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
}  // namespace

BatchEvent BatchedSequence::Next() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !events_.empty(); });
  BatchEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void BatchedSequence::Push(BatchEvent e) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

struct ContinuousBatcher::Pending {
  std::shared_ptr<BatchedSequence> handle;
  std::vector<int64_t> prompt;
  GenerationOptions options;
  Clock::time_point submitted;
};

struct ContinuousBatcher::Slot {
  std::shared_ptr<BatchedSequence> handle;
  std::unique_ptr<SequenceState> state;
  Clock::time_point submitted, started, first_token;
};

ContinuousBatcher::ContinuousBatcher(CausalLm& model, Backend& backend, TextDecoder decode, BatchOptions options)
    : model_(model),
      backend_(backend),
      decode_(std::move(decode)),
      slots_(std::max<int64_t>(1, options.slots)),
      capacity_(options.slot_capacity > 0 ? std::min(options.slot_capacity, model.max_positions()) : model.max_positions()),
      kv_dtype_(options.kv_cache_dtype) {
  arena_.SetAllocator(backend.allocator());
  rows_.resize(static_cast<size_t>(slots_));
  stats_.slots = slots_;
  stats_.kv_capacity_tokens = slots_ * capacity_;
}

Result<std::unique_ptr<ContinuousBatcher>> ContinuousBatcher::Create(CausalLm& model, Backend& backend, TextDecoder decode,
                                                                     BatchOptions options) {
  std::unique_ptr<ContinuousBatcher> b(new ContinuousBatcher(model, backend, std::move(decode), options));
  Exec exec(backend, b->arena_, &HostBackend());
  ACCEL_ASSIGN_OR_RETURN(b->prefill_cache_, model.NewCache(exec, 1, b->capacity_, b->kv_dtype_));
  b->thread_ = std::thread([raw = b.get()] { raw->Loop(); });
  return b;
}

ContinuousBatcher::~ContinuousBatcher() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

void ContinuousBatcher::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

Result<std::shared_ptr<BatchedSequence>> ContinuousBatcher::Submit(std::vector<int64_t> prompt, const GenerationOptions& options) {
  ACCEL_RETURN_IF_ERROR(ValidateSequence(prompt, options, model_.vocab_size(), static_cast<bool>(decode_)));
  if (static_cast<int64_t>(prompt.size()) >= capacity_) {
    return InvalidArgument("prompt of " + std::to_string(prompt.size()) + " tokens does not fit a batch slot of " +
                           std::to_string(capacity_) + " tokens");
  }
  auto p = std::make_unique<Pending>();
  p->handle = std::make_shared<BatchedSequence>();
  p->prompt = std::move(prompt);
  p->options = options;
  p->submitted = Clock::now();
  auto handle = p->handle;
  {
    std::lock_guard lock(mu_);
    if (stop_) return Internal("the model is shutting down");
    waiting_.push_back(std::move(p));
    stats_.waiting = static_cast<int64_t>(waiting_.size());
  }
  cv_.notify_all();
  return handle;
}

ContinuousBatcher::Stats ContinuousBatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void ContinuousBatcher::Loop() {
  for (;;) {
    std::vector<std::pair<std::unique_ptr<Pending>, int64_t>> admit;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || stats_.running > 0 || (!waiting_.empty() && stats_.running < slots_); });
      if (stop_) break;
      // Each waiting sequence takes the lowest free row, so live rows stay low and a step
      // computes rows [0, highest live + 1) only.
      for (int64_t row = 0; row < slots_ && !waiting_.empty(); ++row) {
        if (rows_[static_cast<size_t>(row)]) continue;
        admit.emplace_back(std::move(waiting_.front()), row);
        waiting_.pop_front();
      }
      stats_.waiting = static_cast<int64_t>(waiting_.size());
    }
    for (auto& [p, row] : admit) Admit(std::move(p), row);
    DecodeStep();
  }
  FailAll(Internal("the model is shutting down"));
}

void ContinuousBatcher::Admit(std::unique_ptr<Pending> p, int64_t row) {
  BatchEvent done;
  done.kind = BatchEvent::Kind::kDone;
  done.prompt_tokens = static_cast<int64_t>(p->prompt.size());
  done.queue_ms = Ms(p->submitted, Clock::now());
  auto slot = std::make_unique<Slot>();
  slot->handle = p->handle;
  slot->submitted = p->submitted;
  slot->started = Clock::now();
  slot->state = std::make_unique<SequenceState>(p->prompt, p->options, p->options.sampling.seed, &decode_);
  if (p->handle->cancelled()) slot->state->End("callback");
  if (slot->state->done()) {  // cancelled while waiting, or max_new_tokens 0
    done.result = slot->state->result();
    p->handle->Push(std::move(done));
    return;
  }
  Exec exec(backend_, arena_, &HostBackend());
  auto fail = [&](const Status& s) {
    done.status = s;
    p->handle->Push(std::move(done));
  };
  if (!cache_) {
    auto shared = model_.NewCache(exec, slots_, capacity_, kv_dtype_);
    if (!shared.ok()) return fail(shared.status());
    cache_ = std::move(*shared);
    cache_->SetPerRow(true);
  }
  // The prompt alone, into a lockstep cache of its own; then its rows move into the slot.
  prefill_cache_->Reset();
  const int64_t n = static_cast<int64_t>(p->prompt.size());
  Tensor ids = Tensor::Wrap(DType::kI64, {1, n}, p->prompt.data(), nullptr);
  auto logits = model_.Step(exec, *prefill_cache_, ids, std::vector<uint8_t>(static_cast<size_t>(n), 1));
  arena_.Reset();
  if (!logits.ok()) return fail(logits.status());
  if (Status s = cache_->AdoptRow(exec, *prefill_cache_, 0, row); !s.ok()) return fail(s);
  {
    std::lock_guard lock(mu_);
    ++stats_.running;
    ++stats_.prefills;
    CountKvLocked();
  }
  Slot& s = *slot;
  rows_[static_cast<size_t>(row)] = std::move(slot);
  const SequenceState::Emitted e = s.state->Next(logits->data<float>(), model_.vocab_size());
  s.first_token = Clock::now();
  BatchEvent token;
  token.token = e.token;
  token.text = e.text;
  s.handle->Push(std::move(token));
  if (s.state->done()) Release(row, Status::Ok());
}

void ContinuousBatcher::DecodeStep() {
  int64_t live = 0, highest = -1;
  for (int64_t b = 0; b < slots_; ++b) {
    Slot* s = rows_[static_cast<size_t>(b)].get();
    if (!s) continue;
    if (s->handle->cancelled()) s->state->End("callback");  // the client is gone: free its rows now
    if (cache_->row_length(b) >= capacity_) s->state->End("context_limit");
    if (s->state->done()) {
      Release(b, Status::Ok());
      continue;
    }
    ++live;
    highest = b;
  }
  if (live == 0) return;
  const int64_t batch = highest + 1;
  Exec exec(backend_, arena_, &HostBackend());
  std::vector<int64_t> feed(static_cast<size_t>(batch), 0);
  std::vector<uint8_t> mask(static_cast<size_t>(batch), 0);
  for (int64_t b = 0; b < batch; ++b) {
    if (Slot* s = rows_[static_cast<size_t>(b)].get()) feed[b] = s->state->last_token(), mask[b] = 1;
  }
  Status ready = cache_->SetActiveRows(batch);
  Result<Tensor> logits = ready.ok() ? model_.Step(exec, *cache_, Tensor::Wrap(DType::kI64, {batch, 1}, feed.data(), nullptr), mask)
                                     : Result<Tensor>(ready);
  arena_.Reset();
  if (!logits.ok()) {
    for (int64_t b = 0; b < batch; ++b) {
      if (rows_[static_cast<size_t>(b)]) Release(b, logits.status());
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++stats_.decode_steps;
    stats_.decode_rows += static_cast<uint64_t>(live);
  }
  const int64_t vocab = model_.vocab_size();
  for (int64_t b = 0; b < batch; ++b) {
    Slot* s = rows_[static_cast<size_t>(b)].get();
    if (!s) continue;
    const SequenceState::Emitted e = s->state->Next(logits->data<float>() + b * vocab, vocab);
    BatchEvent token;
    token.token = e.token;
    token.text = e.text;
    s->handle->Push(std::move(token));
    if (s->state->done()) Release(b, Status::Ok());
  }
  std::lock_guard lock(mu_);
  CountKvLocked();
}

void ContinuousBatcher::CountKvLocked() {
  int64_t used = 0;
  for (int64_t b = 0; b < slots_; ++b) used += cache_->row_length(b);
  stats_.kv_tokens = used;
  stats_.kv_bytes = cache_->bytes();
}

void ContinuousBatcher::Release(int64_t row, Status status) {
  std::unique_ptr<Slot> s = std::move(rows_[static_cast<size_t>(row)]);
  BatchEvent done;
  done.kind = BatchEvent::Kind::kDone;
  done.status = std::move(status);
  if (done.status.ok()) done.text = s->state->Finish();
  done.result = s->state->result();
  done.prompt_tokens = s->state->prompt_tokens();
  done.queue_ms = Ms(s->submitted, s->started);
  done.ttft_ms = Ms(s->submitted, s->first_token);
  cache_->ResetRow(row);
  {
    std::lock_guard lock(mu_);
    --stats_.running;
    CountKvLocked();  // before the owner hears of the end
  }
  s->handle->Push(std::move(done));
}

void ContinuousBatcher::FailAll(const Status& status) {
  for (int64_t b = 0; b < slots_; ++b) {
    if (rows_[static_cast<size_t>(b)]) Release(b, status);
  }
  std::lock_guard lock(mu_);
  for (auto& p : waiting_) {
    BatchEvent done;
    done.kind = BatchEvent::Kind::kDone;
    done.status = status;
    p->handle->Push(std::move(done));
  }
  waiting_.clear();
  stats_.waiting = 0;
}

}  // namespace accel::generation
