// KV caches stored as q8_0 / q4_0 blocks (decoder/kv_cache.h): the CPU kernels that read the
// blocks directly equal the f32 kernel run on the dequantized cache, and stay close to f32 on
// the original values; AVX-512 equals the portable kernel; the cache's bytes shrink exactly by
// the block formats' ratios; generation with a quantized cache tracks f32 (top-1 agreement),
// works under continuous batching and on the emulated device; a head_dim the blocks do not
// divide, or a backend that cannot read blocks, is refused with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "backends/cpu/cached_attention.h"
#include "backends/cpu/cpu_backend.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "formats/quant.h"
#include "graph/exec.h"
#include "models/decoder/kv_cache.h"
#include "models/synthetic/synthetic.h"
#include "runtime/generation/continuous_batcher.h"
#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"
#include "serve/model_registry.h"
#include "test_util.h"

namespace accel {
namespace {

struct Heads {
  int hq, hkv, d;
};

// One attention problem: q (a strided view of a fused projection), an f32 cache, the same
// cache quantized (through Exec::StoreRows, as the model writes it) and dequantized back.
struct Problem {
  static constexpr int64_t kBatch = 2, kCap = 48, kPast = 29;
  int64_t n = 3;  // query rows (prefill-sized ones dequantize the span once)
  int64_t kv_len() const { return kPast + n; }
  Heads hs;
  std::vector<float> q, k, v, slopes, key_pos;
  std::vector<uint8_t> mask;
  Tensor kq, vq, kdq, vdq;
};

Problem MakeProblem(Exec& ex, Heads hs, DType dtype, int64_t n = 3) {
  Problem pr;
  pr.n = n;
  pr.hs = hs;
  const int64_t kw = hs.hkv * hs.d, qstride = hs.hq * hs.d + 2 * kw, rows = Problem::kBatch * Problem::kCap;
  pr.q = test::RandomFloats(Problem::kBatch * n * qstride, 2);
  pr.k = test::RandomFloats(rows * kw, 3);
  pr.v = test::RandomFloats(rows * kw, 4);
  pr.mask.assign(rows, 1);
  pr.mask[Problem::kCap + 0] = pr.mask[Problem::kCap + 1] = 0;  // row 1 is left-padded by two
  pr.slopes.resize(hs.hq);
  for (int h = 0; h < hs.hq; ++h) pr.slopes[h] = 0.5f / static_cast<float>(1 << (h % 5));
  pr.key_pos.resize(rows);
  for (int64_t i = 0; i < rows; ++i) pr.key_pos[i] = static_cast<float>(i % Problem::kCap);
  pr.kq = Tensor::Zeros(dtype, {Problem::kBatch, Problem::kCap, kw}).value();
  pr.vq = Tensor::Zeros(dtype, {Problem::kBatch, Problem::kCap, kw}).value();
  EXPECT_TRUE(ex.StoreRows(Tensor::Wrap(DType::kF32, {Problem::kBatch, Problem::kCap, kw}, pr.k.data(), nullptr), pr.kq).ok());
  EXPECT_TRUE(ex.StoreRows(Tensor::Wrap(DType::kF32, {Problem::kBatch, Problem::kCap, kw}, pr.v.data(), nullptr), pr.vq).ok());
  pr.kdq = quant::ToF32(pr.kq).value();
  pr.vdq = quant::ToF32(pr.vq).value();
  return pr;
}

CachedAttentionArgs Args(Problem& pr, const Tensor& k, const Tensor& v, bool alibi) {
  const int64_t kw = pr.hs.hkv * pr.hs.d, qstride = pr.hs.hq * pr.hs.d + 2 * kw;
  CachedAttentionArgs a;
  a.q = Tensor::Wrap(DType::kF32, {Problem::kBatch, pr.n, qstride}, pr.q.data(), nullptr).Columns(0, pr.hs.hq * pr.hs.d);
  a.k = k;
  a.v = v;
  a.kv_len = pr.kv_len();
  a.allowed = Tensor::Wrap(DType::kU8, {Problem::kBatch, Problem::kCap}, pr.mask.data(), nullptr);
  if (alibi) {
    a.alibi_slopes = Tensor::Wrap(DType::kF32, {pr.hs.hq}, pr.slopes.data(), nullptr);
    a.key_positions = Tensor::Wrap(DType::kF32, {Problem::kBatch, Problem::kCap}, pr.key_pos.data(), nullptr);
  }
  return a;
}

AttentionParams Params(Heads hs, int window) {
  AttentionParams p;
  p.num_heads = hs.hq, p.num_kv_heads = hs.hkv, p.head_dim = hs.d, p.scale = 0.3f, p.causal = true, p.sliding_window = window;
  p.query_offset = Problem::kPast;
  return p;
}

// head_dim 32 (one block), 64 (GQA 3:1), 96 (the AVX-512 kernel's any-width path), 128 (MHA).
const Heads kShapes[] = {{4, 2, 32}, {12, 4, 64}, {6, 1, 96}, {4, 4, 128}};

TEST(QuantizedKvAttention, EqualsF32KernelOnDequantizedCacheAndIsCloseToF32) {
  ThreadPool pool(2);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    for (Heads hs : kShapes) {
     for (int64_t n : {1, 3, 16}) {  // decode, a few rows (blocks read in place), prefill (dequantized once)
      Problem pr = MakeProblem(ex, hs, dtype, n);
      const int64_t kw = hs.hkv * hs.d;
      Tensor kf = Tensor::Wrap(DType::kF32, {Problem::kBatch, Problem::kCap, kw}, pr.k.data(), nullptr);
      Tensor vf = Tensor::Wrap(DType::kF32, {Problem::kBatch, Problem::kCap, kw}, pr.v.data(), nullptr);
      float worst = 0.0f;
      for (bool alibi : {false, true}) {
        for (int window : {0, 3, 20}) {
          SCOPED_TRACE(std::string(Name(dtype)) + " d" + std::to_string(hs.d) + " n" + std::to_string(n) + " alibi " + std::to_string(alibi) +
                       " window " + std::to_string(window));
          const AttentionParams p = Params(hs, window);
          auto got = ex.CachedAttention(Args(pr, pr.kq, pr.vq, alibi), p);
          auto on_dequantized = ex.CachedAttention(Args(pr, pr.kdq, pr.vdq, alibi), p);
          auto exact = ex.CachedAttention(Args(pr, kf, vf, alibi), p);
          ASSERT_TRUE(got.ok() && on_dequantized.ok() && exact.ok()) << got.status().message();
          EXPECT_LT(test::MaxAbsDiff(*got, *on_dequantized), 2e-5f);
          worst = std::max(worst, test::MaxAbsDiff(*got, *exact));
        }
      }
      // Values are uniform in [-1, 1): a q8_0 step is ~1/127 of a block's largest, q4_0's ~1/8;
      // outputs are averages of values, so their error is smaller still.
      std::printf("%s d%d n%lld: max |quantized - f32| = %.5f\n", Name(dtype).data(), hs.d, static_cast<long long>(n), worst);
      EXPECT_LT(worst, dtype == DType::kQ8_0 ? 0.02f : 0.2f) << Name(dtype) << " d" << hs.d;
     }
    }
  }
}

TEST(QuantizedKvAttention, Avx512EqualsPortableKernel) {
  const CpuFeatures& f = GetCpuFeatures();
  if (!(f.avx512f && f.avx512dq)) GTEST_SKIP() << "no AVX-512 on this CPU";
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    for (Heads hs : kShapes) {
      Problem pr = MakeProblem(ex, hs, dtype);
      const int64_t kw = hs.hkv * hs.d, qstride = hs.hq * hs.d + 2 * kw;
      cpu::CachedAttentionRaw a;
      a.q = pr.q.data();
      a.q_stride = qstride;
      a.kv_dtype = dtype;
      a.kq = pr.kq.data<uint8_t>();
      a.vq = pr.vq.data<uint8_t>();
      a.kv_row_bytes = static_cast<int64_t>(*BytesFor(dtype, static_cast<size_t>(kw)));
      a.kv_batch_bytes = a.kv_row_bytes * Problem::kCap;
      a.kv_row_stride = kw;
      a.kv_batch_stride = kw * Problem::kCap;
      a.batch = Problem::kBatch, a.q_len = pr.n, a.kv_len = pr.kv_len();
      a.allowed = pr.mask.data();
      a.mask_stride = Problem::kCap;
      for (bool alibi : {false, true}) {
        a.alibi_slopes = alibi ? pr.slopes.data() : nullptr;
        a.key_positions = alibi ? pr.key_pos.data() : nullptr;
        for (int window : {0, 3}) {
          const AttentionParams p = Params(hs, window);
          const size_t n = static_cast<size_t>(Problem::kBatch * pr.n * hs.hq * hs.d);
          std::vector<float> portable(n), avx(n);
          for (int64_t b = 0; b < Problem::kBatch; ++b) {
            for (int64_t kh = 0; kh < hs.hkv; ++kh) {
              cpu::CachedAttentionGeneric(a, p, b, kh, 0, pr.n, portable.data());
              cpu::CachedAttentionAvx512(a, p, b, kh, 0, pr.n, avx.data());
            }
          }
          for (size_t i = 0; i < n; ++i) {
            ASSERT_NEAR(avx[i], portable[i], 2e-5f) << Name(dtype) << " d" << hs.d << " alibi " << alibi << " window " << window;
          }
        }
      }
    }
  }
}

TEST(QuantizedKvAttention, StoreRowsRoundTripsWithinTheBlockFormatsStep) {
  ThreadPool pool(2);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  // Strided source rows, as the model hands them (a column slice of the fused q|k|v output).
  std::vector<float> x = test::RandomFloats(6 * 160, 9);
  Tensor src = Tensor::Wrap(DType::kF32, {6, 160}, x.data(), nullptr).Columns(32, 96);
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    Tensor dst = Tensor::Zeros(dtype, {6, 64}).value();
    ASSERT_TRUE(ex.StoreRows(src, dst).ok());
    Tensor back = quant::ToF32(dst).value();
    for (int64_t r = 0; r < 6; ++r) {
      for (int64_t i = 0; i < 64; ++i) {
        EXPECT_NEAR(back.data<float>()[r * 64 + i], x[r * 160 + 32 + i], dtype == DType::kQ8_0 ? 1.0f / 127 : 1.0f / 8 + 1e-3f);
      }
    }
  }
  Tensor wrong = Tensor::Zeros(DType::kQ8_0, {6, 32}).value();
  EXPECT_FALSE(ex.StoreRows(src, wrong).ok());
}

// The cache's bookkeeping (mask, positions) is the same for every dtype; K/V take 4, 34/32 and
// 18/32 bytes per value.
TEST(QuantizedKvCache, BytesShrinkByTheBlockRatiosAndAdoptRowCopiesBlocks) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  const int64_t layers = 3, rows = 2, cap = 40, kw = 128, head_dim = 64;
  const size_t values = static_cast<size_t>(2 * layers * rows * cap * kw);
  auto f32 = decoder::KvCache::Create(ex, layers, rows, cap, kw);
  auto q8 = decoder::KvCache::Create(ex, layers, rows, cap, kw, DType::kQ8_0, head_dim);
  auto q4 = decoder::KvCache::Create(ex, layers, rows, cap, kw, DType::kQ4_0, head_dim);
  ASSERT_TRUE(f32.ok() && q8.ok() && q4.ok()) << q8.status().message();
  const size_t book = (*f32)->bytes() - values * 4;
  EXPECT_EQ((*q8)->bytes(), book + values / 32 * 34);
  EXPECT_EQ((*q4)->bytes(), book + values / 32 * 18);
  EXPECT_EQ((*q8)->dtype(), DType::kQ8_0);
  EXPECT_EQ((*q8)->keys(1).dtype(), DType::kQ8_0);

  // AdoptRow moves a prefilled row's blocks into a per-row cache.
  auto own = decoder::KvCache::Create(ex, layers, 1, cap, kw, DType::kQ8_0, head_dim);
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE((*own)->Append(5, {1, 1, 1, 1, 1}).ok());
  std::vector<float> x = test::RandomFloats(5 * kw, 11);
  for (int64_t l = 0; l < layers; ++l) {
    Tensor dst = (*own)->values(l).Reshape({cap, kw}).value().SliceRows(0, 5);
    ASSERT_TRUE(ex.StoreRows(Tensor::Wrap(DType::kF32, {5, kw}, x.data(), nullptr), dst).ok());
  }
  (*own)->CommitStep();
  decoder::KvCache& shared = **q8;
  shared.SetPerRow(true);
  ASSERT_TRUE(shared.AdoptRow(ex, **own, 0, 1).ok());
  const size_t row_bytes = *BytesFor(DType::kQ8_0, static_cast<size_t>(kw));
  const uint8_t* from = (*own)->values(2).data<uint8_t>();
  const uint8_t* to = shared.values(2).data<uint8_t>() + cap * row_bytes;  // row 1
  EXPECT_TRUE(std::equal(from, from + 5 * row_bytes, to));
  EXPECT_FALSE(shared.AdoptRow(ex, **f32, 0, 0).ok());  // f32 rows into a q8_0 cache
}

TEST(QuantizedKvCache, HeadDimNotAMultipleOf32IsRefusedClearly) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  auto direct = decoder::KvCache::Create(ex, 2, 1, 8, 64, DType::kQ4_0, 16);
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.status().message().find("head_dim is 16 (not a multiple of 32)"), std::string::npos) << direct.status().message();
  auto m = LoadedModel::Load(test::ModelDir("llama-tiny"));  // head_dim 16
  ASSERT_TRUE(m.ok());
  generation::Generator gen(*(*m)->causal_lm(), (*m)->backend());
  generation::GenerationOptions o;
  o.max_new_tokens = 2;
  o.kv_cache_dtype = DType::kQ8_0;
  auto r = gen.Run({{1, 2, 3}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "a q8_0 KV cache quantizes each head in blocks of 32 values, but this model's head_dim is 16 (not a multiple of "
            "32); use an f32 KV cache");
  EXPECT_FALSE(decoder::KvCache::ParseDType("q5_k").ok());
}

// A backend that attends over f32 caches only (as the CUDA and Vulkan backends do).
class F32OnlyKvBackend : public CpuBackend {
 public:
  using CpuBackend::CpuBackend;
  std::string_view name() const override { return "f32-only"; }
  bool Supports(Op, DType dtype) const override { return dtype == DType::kF32; }
};

TEST(QuantizedKvCache, BackendWithoutQuantizedAttentionIsRefusedAtCreation) {
  ThreadPool pool(1);
  F32OnlyKvBackend backend(pool);
  Arena arena;
  Exec ex(backend, arena);
  auto c = decoder::KvCache::Create(ex, 2, 1, 8, 64, DType::kQ8_0, 32);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(c.status().message(), "the f32-only backend cannot attend over a q8_0 KV cache; use an f32 KV cache there");
  EXPECT_TRUE(decoder::KvCache::Create(ex, 2, 1, 8, 64, DType::kF32, 32).ok());
}

// Teacher-forced greedy: the f32 cache's greedy tokens are fed to every cache type one step at
// a time; returns each step's argmax and the largest logit difference from f32.
struct Forced {
  std::vector<int64_t> argmax;
  float max_logit_diff = 0.0f;
};

std::vector<Forced> TeacherForced(CausalLm& lm, Backend& backend, const std::vector<int64_t>& prompt, int steps,
                                  const std::vector<DType>& dtypes) {
  Arena arena;
  arena.SetAllocator(backend.allocator());
  std::vector<Forced> out(dtypes.size());
  std::vector<std::vector<float>> f32_logits;
  std::vector<int64_t> fed = prompt;  // f32's greedy continuation, extended as it goes
  for (size_t t = 0; t < dtypes.size(); ++t) {
    Exec ex(backend, arena);
    auto cache = lm.NewCache(ex, 1, static_cast<int64_t>(prompt.size()) + steps, dtypes[t]);
    EXPECT_TRUE(cache.ok()) << cache.status().message();
    if (!cache.ok()) return out;
    size_t at = 0;
    for (int s = 0; s <= steps; ++s) {
      const int64_t n = s == 0 ? static_cast<int64_t>(prompt.size()) : 1;
      std::vector<int64_t> ids(fed.begin() + static_cast<std::ptrdiff_t>(at), fed.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += static_cast<size_t>(n);
      auto logits = lm.Step(ex, **cache, Tensor::Wrap(DType::kI64, {1, n}, ids.data(), nullptr), std::vector<uint8_t>(n, 1));
      arena.Reset();
      EXPECT_TRUE(logits.ok()) << logits.status().message();
      if (!logits.ok()) return out;
      const float* l = logits->data<float>();
      const int64_t vocab = lm.vocab_size();
      const int64_t best = std::max_element(l, l + vocab) - l;
      out[t].argmax.push_back(best);
      if (t == 0) {
        f32_logits.emplace_back(l, l + vocab);
        if (s < steps) fed.push_back(best);
      } else {
        for (int64_t i = 0; i < vocab; ++i) {
          out[t].max_logit_diff = std::max(out[t].max_logit_diff, std::fabs(l[i] - f32_logits[static_cast<size_t>(s)][i]));
        }
      }
      if (at >= fed.size()) break;
    }
  }
  return out;
}

int Agree(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  int n = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] == b[i];
  return n;
}

// qwen3-tiny (head_dim 32, GQA 2:1, qk-norm) and a synthetic LLaMA of head_dim 64.
TEST(QuantizedKvGeneration, GreedyTracksF32) {
  const int steps = 24;
  {
    auto m = LoadedModel::Load(test::ModelDir("qwen3-tiny"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto r = TeacherForced(*(*m)->causal_lm(), (*m)->backend(), {1, 158, 52, 29, 117, 243, 167}, steps,
                           {DType::kF32, DType::kQ8_0, DType::kQ4_0});
    ASSERT_EQ(r[0].argmax.size(), static_cast<size_t>(steps + 1));
    const int q8 = Agree(r[0].argmax, r[1].argmax), q4 = Agree(r[0].argmax, r[2].argmax);
    std::printf("qwen3-tiny: top-1 agreement with f32 over %d steps: q8_0 %d, q4_0 %d; max logit diff q8_0 %.4f, q4_0 %.4f\n",
                steps + 1, q8, q4, r[1].max_logit_diff, r[2].max_logit_diff);
    EXPECT_EQ(q8, steps + 1);
    // A random tiny model with qk-norm: its logits lie close together, and q4_0's error (a
    // logit moves by up to ~3.6 here) flips some steps; measured 16 of 25.
    EXPECT_GE(q4, (steps + 1) * 3 / 5);
  }
  {
    synthetic::LlamaShape shape{256, 2, 4, 2, 512, 512};
    auto synth = synthetic::MakeLlama("llama-kvq", shape, DType::kF32);
    ASSERT_TRUE(synth.ok()) << synth.status().message();
    auto m = LoadedModel::FromParts(synth->config, std::move(synth->weights), LoadOptions("cpu"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto r = TeacherForced(*(*m)->causal_lm(), (*m)->backend(), {1, 17, 200, 45, 301, 77, 9, 123}, steps,
                           {DType::kF32, DType::kQ8_0, DType::kQ4_0});
    ASSERT_EQ(r[0].argmax.size(), static_cast<size_t>(steps + 1));
    const int q8 = Agree(r[0].argmax, r[1].argmax), q4 = Agree(r[0].argmax, r[2].argmax);
    std::printf("synthetic llama d64: top-1 agreement with f32 over %d steps: q8_0 %d, q4_0 %d; max logit diff q8_0 %.4f, q4_0 %.4f\n",
                steps + 1, q8, q4, r[1].max_logit_diff, r[2].max_logit_diff);
    EXPECT_GE(q8, steps);
    EXPECT_GE(q4, (steps + 1) * 4 / 5);
  }
}

// Continuous batching with a q8_0 cache: each sequence equals its run alone (q8_0 as well),
// and the emulated device (a GPU stand-in) gives the CPU's tokens.
TEST(QuantizedKvGeneration, ContinuousBatchingAndEmulatedDeviceMatchSingleRuns) {
  auto m = LoadedModel::Load(test::ModelDir("qwen3-tiny"));
  ASSERT_TRUE(m.ok());
  CausalLm& lm = *(*m)->causal_lm();
  generation::GenerationOptions o;
  o.max_new_tokens = 6;
  o.kv_cache_dtype = DType::kQ8_0;
  std::mt19937 rng(7);
  std::vector<std::vector<int64_t>> prompts, alone;
  generation::Generator gen(lm, (*m)->backend());
  for (int i = 0; i < 5; ++i) {
    std::vector<int64_t> p(2 + rng() % 9);
    for (auto& t : p) t = 3 + static_cast<int64_t>(rng() % static_cast<uint32_t>(lm.vocab_size() - 3));
    prompts.push_back(p);
    auto r = gen.Run({p}, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    alone.push_back(r->rows[0].tokens);
  }
  auto made = generation::ContinuousBatcher::Create(lm, (*m)->backend(), nullptr,
                                                   {.slots = 2, .slot_capacity = 32, .kv_cache_dtype = DType::kQ8_0});
  ASSERT_TRUE(made.ok()) << made.status().message();
  generation::ContinuousBatcher& batcher = **made;
  std::vector<std::shared_ptr<generation::BatchedSequence>> seqs;
  for (const auto& p : prompts) {
    auto s = batcher.Submit(p, o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    seqs.push_back(*s);
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    std::vector<int64_t> got;
    for (;;) {
      generation::BatchEvent e = seqs[i]->Next();
      if (e.kind == generation::BatchEvent::Kind::kDone) {
        ASSERT_TRUE(e.status.ok()) << e.status.message();
        break;
      }
      got.push_back(e.token);
    }
    EXPECT_EQ(got, alone[i]) << "sequence " << i;
  }
  const auto st = batcher.stats();
  EXPECT_GT(st.kv_bytes, 0u);

  auto em = LoadedModel::Load(test::ModelDir("qwen3-tiny"), LoadOptions("emulated"));
  ASSERT_TRUE(em.ok()) << em.status().message();
  generation::Generator egen(*(*em)->causal_lm(), (*em)->backend());
  for (size_t i = 0; i < 2; ++i) {
    auto r = egen.Run({prompts[i]}, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->rows[0].tokens, alone[i]);
  }
}

TEST(QuantizedKvGeneration, CliPrintsTheSmallerCacheAndRefusesHeadDim16) {
  auto f32 = test::RunCli("generate -m " + test::ModelDir("qwen3-tiny") + " --prompt-ids 1,17,20,45 -n 4 --json");
  auto q8 = test::RunCli("generate -m " + test::ModelDir("qwen3-tiny") + " --prompt-ids 1,17,20,45 -n 4 --json --kv-cache q8_0");
  ASSERT_EQ(f32.exit_code, 0) << f32.out;
  ASSERT_EQ(q8.exit_code, 0) << q8.out;
  EXPECT_NE(q8.out.find("\"kv_cache_type\":\"q8_0\""), std::string::npos) << q8.out;
  auto bad = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,17 -n 2 --kv-cache q4_0");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("head_dim is 16 (not a multiple of 32)"), std::string::npos) << bad.out;
}

// accel serve --kv-cache: a generator's batcher gets the cache type; a model it cannot apply to
// is refused when it loads, not at its first request.
TEST(QuantizedKvGeneration, ServeLoadsWithTheCacheTypeOrRefusesAtLoad) {
  serve::ServedModelOptions o;
  o.parallel = 2;
  o.slot_context = 32;
  o.kv_cache = "q4_0";
  auto ok = serve::ServedModel::Load({"qwen3-tiny", test::ModelDir("qwen3-tiny")}, o);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  generation::GenerationOptions g;
  g.max_new_tokens = 3;
  auto seq = (*ok)->batcher()->Submit({1, 17, 20}, g);
  ASSERT_TRUE(seq.ok());
  for (;;) {
    generation::BatchEvent e = (*seq)->Next();
    if (e.kind != generation::BatchEvent::Kind::kDone) continue;
    ASSERT_TRUE(e.status.ok()) << e.status.message();
    EXPECT_EQ(e.result.tokens.size(), 3u);
    break;
  }
  auto bad = serve::ServedModel::Load({"llama-tiny", test::ModelDir("llama-tiny")}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("serve: model 'llama-tiny': a q4_0 KV cache quantizes each head", 0), 0u)
      << bad.status().message();
  o.kv_cache = "q5";
  EXPECT_FALSE(serve::ServedModel::Load({"qwen3-tiny", test::ModelDir("qwen3-tiny")}, o).ok());
}

// Bytes per token of the synthetic Llama-3.2-1B shape (16 layers, 8 KV heads of 64) from the
// caches' own bytes(), and the context one row reaches in a budget: the table in
// docs/GENERATION.md comes from this output.
TEST(QuantizedKvCache, ReachableContextOfThe1bShape) {
  ThreadPool pool(1);
  CpuBackend cpu(pool);
  Arena arena;
  Exec ex(cpu, arena);
  const synthetic::LlamaShape s = *synthetic::LlamaPreset("1b");
  const int64_t head_dim = s.hidden / s.heads, kw = s.kv_heads * head_dim;
  size_t f32_per_token = 0;
  std::printf("%-6s %14s %12s %10s %10s %10s\n", "kv", "bytes/token", "per layer", "1 GiB", "4 GiB", "16 GiB");
  for (DType dtype : {DType::kF32, DType::kQ8_0, DType::kQ4_0}) {
    auto one = decoder::KvCache::Create(ex, s.layers, 1, 1, kw, dtype, head_dim);
    auto two = decoder::KvCache::Create(ex, s.layers, 1, 2, kw, dtype, head_dim);
    ASSERT_TRUE(one.ok() && two.ok());
    const size_t per_token = (*two)->bytes() - (*one)->bytes(), fixed = (*one)->bytes() - per_token;
    if (dtype == DType::kF32) f32_per_token = per_token;
    auto reach = [&](double gib) { return static_cast<long long>((gib * (1 << 30) - static_cast<double>(fixed)) / per_token); };
    std::printf("%-6s %14zu %12.1f %10lld %10lld %10lld\n", Name(dtype).data(), per_token,
                static_cast<double>(per_token) / static_cast<double>(s.layers), reach(1), reach(4), reach(16));
    // Confirm the arithmetic on a real cache of the reachable length in 64 MiB.
    const int64_t fits = reach(1.0 / 16);
    auto at = decoder::KvCache::Create(ex, s.layers, 1, fits, kw, dtype, head_dim);
    ASSERT_TRUE(at.ok());
    EXPECT_LE((*at)->bytes(), size_t{64} << 20);
    EXPECT_GT((*at)->bytes() + per_token, size_t{64} << 20);
  }
  // K/V: 2 x 16 x 512 values a token, plus 13 bytes of bookkeeping (mask, position, ALiBi position).
  EXPECT_EQ(f32_per_token, 2u * 16 * 512 * 4 + 13);
}

}  // namespace
}  // namespace accel
