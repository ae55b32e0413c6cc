#pragma once
// Continuous batching for one decoder-only model: sequences arrive at any time and join the
// running batch between two decode steps. One thread owns the model's compute: each turn it
// prefills the sequences waiting for a free slot (each alone, into a cache of its own, then
// moved into the slot's rows of the shared per-row KV cache), then decodes one token for every
// live slot in one step, so the weights are read once for all of them. A sequence that ends
// (EOS, stop string, max tokens, its slot's capacity) or is cancelled frees its slot at once.
//
// Each sequence samples with its own parameters and seed (SequenceState), so a sequence's
// tokens do not depend on what else is in the batch (up to float rounding of batched
// matrix products). Its owner reads events from a BatchedSequence on any thread: a slow reader
// never stalls the batch.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/arena.h"
#include "models/causal_lm.h"
#include "runtime/generation/generator.h"

namespace accel::generation {

struct BatchOptions {
  int64_t slots = 4;          // sequences decoded together
  int64_t slot_capacity = 0;  // tokens per sequence, prompt included; 0 = the model's context
  DType kv_cache_dtype = DType::kF32;  // f32, q8_0 or q4_0 (decoder/kv_cache.h)
};

struct BatchEvent {
  enum class Kind { kToken, kDone };
  Kind kind = Kind::kToken;
  int64_t token = -1;
  std::string text;  // kToken: text it made showable; kDone: the held-back rest
  // kDone only:
  Status status;     // not ok: the sequence failed (nothing more comes)
  RowResult result;  // tokens, final text, finish_reason ("eos", "stop", "length", "callback", "context_limit")
  int64_t prompt_tokens = 0;
  double queue_ms = 0, ttft_ms = 0;  // waiting for a slot; submission to first token
};

// The owner's side of one sequence.
class BatchedSequence {
 public:
  // Blocks for the next event; after kDone there are none.
  BatchEvent Next();
  // Ends the sequence at the batcher's next turn, freeing its slot ("callback").
  void Cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  friend class ContinuousBatcher;
  void Push(BatchEvent e);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchEvent> events_;
  std::atomic<bool> cancelled_{false};
};

class ContinuousBatcher {
 public:
  // `decode` turns a sequence's tokens into text (empty: no text, no stop strings). The one-row
  // prefill cache is made here, so a KV cache type the model or backend cannot take is refused
  // now; the shared cache of every slot is allocated at the first sequence.
  static Result<std::unique_ptr<ContinuousBatcher>> Create(CausalLm& model, Backend& backend, TextDecoder decode,
                                                           BatchOptions options);
  ~ContinuousBatcher();  // Shutdown(), then waits for the batcher's thread
  ContinuousBatcher(const ContinuousBatcher&) = delete;
  ContinuousBatcher& operator=(const ContinuousBatcher&) = delete;

  // Checks the request and queues it; it starts when a slot is free.
  Result<std::shared_ptr<BatchedSequence>> Submit(std::vector<int64_t> prompt, const GenerationOptions& options);

  struct Stats {
    int64_t slots = 0, running = 0, waiting = 0;
    int64_t kv_tokens = 0, kv_capacity_tokens = 0;  // slots in use over all rows / allocated
    size_t kv_bytes = 0;
    uint64_t decode_steps = 0, decode_rows = 0;  // rows / steps = the mean batch
    uint64_t prefills = 0;
  };
  Stats stats() const;
  // Refuses new sequences; after the step in progress, fails the running and waiting ones
  // ("the model is shutting down"). Does not wait.
  void Shutdown();
  int64_t slots() const { return slots_; }
  int64_t slot_capacity() const { return capacity_; }

 private:
  ContinuousBatcher(CausalLm& model, Backend& backend, TextDecoder decode, BatchOptions options);
  struct Pending;
  struct Slot;
  void Loop();
  void Admit(std::unique_ptr<Pending> p, int64_t row);
  void DecodeStep();
  // Ends row's sequence (with `status`, or as it finished), frees its rows, sends the last event.
  void Release(int64_t row, Status status);
  void FailAll(const Status& status);
  void CountKvLocked();  // stats_.kv_* from the cache; mu_ held

  CausalLm& model_;
  Backend& backend_;
  TextDecoder decode_;
  const int64_t slots_, capacity_;
  const DType kv_dtype_;
  Arena arena_;
  std::unique_ptr<decoder::KvCache> cache_, prefill_cache_;
  std::vector<std::unique_ptr<Slot>> rows_;  // by KV row; null = free

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> waiting_;
  bool stop_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace accel::generation
