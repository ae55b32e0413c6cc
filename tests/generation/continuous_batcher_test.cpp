// Continuous batching on real fixture models: whatever joins the batch and whenever, each
// sequence's tokens equal the same sequence generated alone (HF's greedy output where the
// fixture has it); cancellation and the end of a sequence free its slot; seeds, the slot
// capacity and shutdown behave as the Generator's do.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"
#include "models/decoder/kv_cache.h"
#include "runtime/generation/continuous_batcher.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel::generation {
namespace {

using Fixture = test::LoadedLm;
Fixture Load(const std::string& name) { return test::LoadCausalLm(name); }

// Reads a sequence to its end: its streamed tokens and the final event.
BatchEvent Drain(BatchedSequence& s, std::vector<int64_t>* streamed) {
  for (;;) {
    BatchEvent e = s.Next();
    if (e.kind == BatchEvent::Kind::kDone) return e;
    streamed->push_back(e.token);
  }
}

// The batcher thread calls the text decoder after each token: this one holds the first
// sequence to reach `tokens` tokens there until Open(), so a test knows where the batch is.
class DecodeGate {
 public:
  explicit DecodeGate(size_t tokens) : tokens_(tokens) {}
  TextDecoder decoder() {
    return [this](const std::vector<int64_t>& t) {
      if (t.size() == tokens_ && !passed_.exchange(true)) {
        std::unique_lock lock(mu_);
        reached_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return open_; });
      }
      return std::string();
    };
  }
  void AwaitReached() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return reached_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  const size_t tokens_;
  std::atomic<bool> passed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool reached_ = false, open_ = false;
};

TEST(ContinuousBatcher, SequencesJoiningARunningBatchMatchTheHfReference) {
  Fixture f = Load("mistral-tiny");  // sliding window of 4: rows of different lengths mask it each on their own
  DecodeGate gate(3);
  auto made = ContinuousBatcher::Create(*f.lm, f.model->backend(), gate.decoder(), {.slots = 2, .slot_capacity = 0});
  ASSERT_TRUE(made.ok()) << made.status().message();
  ContinuousBatcher& batcher = **made;
  GenerationOptions o;
  o.max_new_tokens = 8;
  // mistral-tiny's generate.output_ids (HF).
  auto a = batcher.Submit({1, 158, 52, 29, 117, 243, 167}, o);
  ASSERT_TRUE(a.ok()) << a.status().message();
  gate.AwaitReached();  // a has 3 tokens and 5 to go when b arrives
  auto b = batcher.Submit({1, 64, 219, 24, 68}, o);
  ASSERT_TRUE(b.ok());
  gate.Open();
  std::vector<int64_t> ta, tb;
  BatchEvent da = Drain(**a, &ta), db = Drain(**b, &tb);
  ASSERT_TRUE(da.status.ok()) << da.status.message();
  ASSERT_TRUE(db.status.ok()) << db.status.message();
  EXPECT_EQ(ta, (std::vector<int64_t>{146, 242, 192, 106, 168, 26, 169, 23}));
  EXPECT_EQ(tb, (std::vector<int64_t>{202, 72, 244, 66, 186, 50, 172, 23}));
  EXPECT_EQ(da.result.tokens, ta);
  EXPECT_EQ(da.result.finish_reason, "length");
  EXPECT_EQ(db.prompt_tokens, 5);
  const auto st = batcher.stats();
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.kv_tokens, 0);  // both slots were freed
  EXPECT_EQ(st.prefills, 2u);
  EXPECT_GT(st.decode_rows, st.decode_steps);  // some steps decoded both
}

// Every decoder template (RoPE, learned positions, ALiBi, qk-norm, parallel residuals, GQA):
// more sequences than slots, of different lengths, each equal to its run alone.
TEST(ContinuousBatcher, EveryDecoderTemplateEqualsItsSingleSequenceRuns) {
  for (const char* name : {"llama-tiny", "llama-tiny-gqa", "gpt2-tiny", "bloom-tiny", "qwen3-tiny", "falcon-tiny",
                           "gpt_neox-tiny", "gptj-tiny", "phi3-tiny", "gemma-tiny", "opt-tiny", "qwen2-tiny"}) {
    SCOPED_TRACE(name);
    Fixture f = Load(name);
    std::mt19937 rng(42);
    std::vector<std::vector<int64_t>> prompts;
    for (int i = 0; i < 5; ++i) {
      std::vector<int64_t> p(2 + rng() % 9);
      for (auto& t : p) t = 3 + static_cast<int64_t>(rng() % static_cast<uint32_t>(f.lm->vocab_size() - 3));
      prompts.push_back(p);
    }
    GenerationOptions o;
    o.max_new_tokens = 6;
    std::vector<std::vector<int64_t>> alone;
    Generator gen(*f.lm, f.model->backend());
    for (const auto& p : prompts) {
      auto r = gen.Run({p}, o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      alone.push_back(r->rows[0].tokens);
    }
    auto made = ContinuousBatcher::Create(*f.lm, f.model->backend(), nullptr, {.slots = 3, .slot_capacity = 64});
    ASSERT_TRUE(made.ok()) << made.status().message();
    ContinuousBatcher& batcher = **made;
    std::vector<std::shared_ptr<BatchedSequence>> seqs;
    for (const auto& p : prompts) {
      auto s = batcher.Submit(p, o);
      ASSERT_TRUE(s.ok()) << s.status().message();
      seqs.push_back(*s);
    }
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::vector<int64_t> tokens;
      BatchEvent done = Drain(*seqs[i], &tokens);
      ASSERT_TRUE(done.status.ok()) << done.status.message();
      EXPECT_EQ(tokens, alone[i]) << "prompt " << i;
    }
  }
}

TEST(ContinuousBatcher, CancellingFreesTheSlotForTheNextSequence) {
  Fixture f = Load("llama-tiny");
  DecodeGate gate(3);
  auto made = ContinuousBatcher::Create(*f.lm, f.model->backend(), gate.decoder(), {.slots = 1, .slot_capacity = 128});
  ASSERT_TRUE(made.ok()) << made.status().message();
  ContinuousBatcher& batcher = **made;
  GenerationOptions o;
  o.max_new_tokens = 40;
  auto a = batcher.Submit({1, 192, 108, 182, 223, 91}, o);
  auto b = batcher.Submit({1, 5, 6}, o);  // waits: one slot
  ASSERT_TRUE(a.ok() && b.ok());
  gate.AwaitReached();
  (*a)->Cancel();  // as a client that disconnects after its third token
  gate.Open();
  std::vector<int64_t> ta, tb;
  BatchEvent da = Drain(**a, &ta);
  EXPECT_EQ(da.result.finish_reason, "callback");
  EXPECT_EQ(ta.size(), 3u);
  BatchEvent db = Drain(**b, &tb);
  ASSERT_TRUE(db.status.ok()) << db.status.message();
  EXPECT_EQ(tb.size(), 40u);
  EXPECT_EQ(db.result.finish_reason, "length");
  EXPECT_GT(db.queue_ms, 0.0);
  const auto st = batcher.stats();
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.kv_tokens, 0);
}

TEST(ContinuousBatcher, SeedsAndTheSlotCapacityBehaveAsTheGenerator) {
  Fixture f = Load("llama-tiny");
  const std::vector<int64_t> p = {1, 192, 108, 182, 223, 91, 17, 40};
  GenerationOptions sampled;
  sampled.max_new_tokens = 4;  // 8 + 4 fits the 12 slots
  sampled.sampling.temperature = 0.9f;
  sampled.sampling.top_k = 20;
  sampled.sampling.seed = 7;
  GenerationOptions limited;
  limited.max_new_tokens = 100;
  limited.max_context = 12;
  Generator gen(*f.lm, f.model->backend());
  auto alone = gen.Run({p}, sampled);
  auto capped = gen.Run({p}, limited);
  ASSERT_TRUE(alone.ok() && capped.ok());
  ASSERT_EQ(capped->rows[0].finish_reason, "context_limit");

  auto made = ContinuousBatcher::Create(*f.lm, f.model->backend(), nullptr, {.slots = 4, .slot_capacity = 12});
  ASSERT_TRUE(made.ok()) << made.status().message();
  ContinuousBatcher& batcher = **made;
  GenerationOptions other = sampled;
  other.sampling.seed = 8;
  auto s1 = batcher.Submit(p, sampled);
  auto s2 = batcher.Submit({1, 2, 3}, other);  // a neighbour drawing its own stream
  auto s3 = batcher.Submit(p, limited);
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  std::vector<int64_t> t1, t2, t3;
  Drain(**s2, &t2);
  BatchEvent d1 = Drain(**s1, &t1), d3 = Drain(**s3, &t3);
  EXPECT_EQ(t1, alone->rows[0].tokens);
  EXPECT_EQ(t3, capped->rows[0].tokens);
  EXPECT_EQ(d3.result.finish_reason, "context_limit");
  EXPECT_EQ(d1.result.finish_reason, "length");
}

TEST(ContinuousBatcher, BadRequestsAreRefusedAndShutdownEndsEverySequence) {
  Fixture f = Load("llama-tiny");
  std::shared_ptr<BatchedSequence> running, waiting;
  {
    DecodeGate gate(2);
    auto made = ContinuousBatcher::Create(*f.lm, f.model->backend(), gate.decoder(), {.slots = 1, .slot_capacity = 16});
    ASSERT_TRUE(made.ok()) << made.status().message();
    ContinuousBatcher& batcher = **made;
    GenerationOptions o;
    o.max_new_tokens = 4;
    EXPECT_FALSE(batcher.Submit({}, o).ok());
    auto big = batcher.Submit(std::vector<int64_t>(16, 5), o);
    ASSERT_FALSE(big.ok());
    EXPECT_NE(big.status().message().find("does not fit a batch slot of 16"), std::string::npos);
    auto bad = batcher.Submit({1, f.lm->vocab_size()}, o);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("outside the vocabulary"), std::string::npos);
    GenerationOptions stops = o;
    stops.stop_strings = {"x"};
    stops.sampling.top_p = 2.0f;
    EXPECT_FALSE(batcher.Submit({1, 2}, stops).ok());
    o.max_new_tokens = 1000;
    running = batcher.Submit({1, 2, 3}, o).value();
    waiting = batcher.Submit({1, 2, 3}, o).value();
    gate.AwaitReached();  // running is mid-sequence, waiting waits for its slot
    batcher.Shutdown();
    EXPECT_FALSE(batcher.Submit({1, 2, 3}, o).ok());
    gate.Open();
  }
  // The batcher is gone: both sequences ended, the one that never ran with an error.
  std::vector<int64_t> rest;
  BatchEvent d1 = Drain(*running, &rest), d2 = Drain(*waiting, &rest);
  EXPECT_FALSE(d2.status.ok());
  EXPECT_NE(d2.status.message().find("shutting down"), std::string::npos);
  EXPECT_FALSE(d1.status.ok());
}

TEST(KvCachePerRow, RowsAdvanceOnTheirOwnAndAdoptPrefilledRows) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  auto shared = decoder::KvCache::Create(ex, 1, 3, 8, 4);
  auto own = decoder::KvCache::Create(ex, 1, 1, 8, 4);
  ASSERT_TRUE(shared.ok() && own.ok());
  decoder::KvCache& c = **shared;
  c.SetPerRow(true);
  ASSERT_TRUE((*own)->Append(3, {1, 1, 1}).ok());
  (*own)->CommitStep();
  ASSERT_TRUE(c.AdoptRow(ex, **own, 0, 1).ok());
  EXPECT_EQ(c.row_length(1), 3);
  EXPECT_EQ(c.length(), 3);
  ASSERT_TRUE(c.SetActiveRows(2).ok());
  EXPECT_EQ(c.keys(0).dim(0), 2);
  ASSERT_TRUE(c.Append(1, {0, 1}).ok());  // row 0 idle, row 1 decodes its 4th token
  EXPECT_EQ(c.step_start(0), 0);
  EXPECT_EQ(c.step_start(1), 3);
  EXPECT_EQ(c.span(), 4);
  EXPECT_EQ(c.positions(1, 3)[0], 3);
  EXPECT_EQ(c.mask()[0], 1);  // the idle row sees its scratch slot during the step
  c.CommitStep();
  EXPECT_EQ(c.mask()[0], 0);  // and keeps nothing
  EXPECT_EQ(c.row_length(0), 0);
  EXPECT_EQ(c.row_length(1), 4);
  EXPECT_FALSE(c.Append(2, {1, 1, 1, 1}).ok());  // one token per row and step
  c.ResetRow(1);
  EXPECT_EQ(c.length(), 0);
}

}  // namespace
}  // namespace accel::generation
