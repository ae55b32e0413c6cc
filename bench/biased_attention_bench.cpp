// AttentionWithBias (T5's relative-position bias) on the CPU backend against plain Attention on
// the same row kernels and against the scalar loop it replaced (kept here as the baseline).
// Encoder self-attention of one sequence, T5-base shape by default; prints median ms of --reps.
//   biased_attention_bench [--seq N] [--heads N] [--head-dim N] [--threads N] [--reps N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/devices.h"

using namespace accel;

namespace {

// The pre-vectorisation AttentionWithBias: one dot product per key, double-precision softmax
// sum, single thread per (batch, head) row block. Non-causal, unmasked (the bench's case).
void ScalarBiasedAttention(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, int64_t q_len,
                           int64_t kv_len, int heads, int hd, float scale, const float* bias, float* out) {
  ThreadPool::Global().ParallelFor(heads, 1, [&](int64_t h0, int64_t h1) {
    std::vector<float> scores(static_cast<size_t>(kv_len));
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t i = 0; i < q_len; ++i) {
        const float* qi = q + i * q_stride + h * hd;
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < kv_len; ++j) {
          const float* kj = k + j * kv_stride + h * hd;
          float dot = 0;
          for (int d = 0; d < hd; ++d) dot += qi[d] * kj[d];
          scores[j] = dot * scale + bias[(h * q_len + i) * kv_len + j];
          best = std::max(best, scores[j]);
        }
        double total = 0;
        for (int64_t j = 0; j < kv_len; ++j) total += scores[j] = std::exp(scores[j] - best);
        const float inv = static_cast<float>(1.0 / total);
        float* oi = out + i * heads * hd + h * hd;
        std::fill(oi, oi + hd, 0.0f);
        for (int64_t j = 0; j < kv_len; ++j) {
          const float w = scores[j] * inv;
          const float* vj = v + j * kv_stride + h * hd;
          for (int d = 0; d < hd; ++d) oi[d] += w * vj[d];
        }
      }
    }
  });
}

template <typename F>
double MedianMs(int reps, F&& f) {
  std::vector<double> t;
  f();  // warm-up: thread-local buffers, page faults
  for (int r = 0; r < reps; ++r) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t seq = 512;
  int heads = 12, hd = 64, threads = 1, reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], val = argv[i + 1];
    if (key == "--seq") seq = std::stoll(val);
    else if (key == "--heads") heads = std::stoi(val);
    else if (key == "--head-dim") hd = std::stoi(val);
    else if (key == "--threads") threads = std::stoi(val);
    else if (key == "--reps") reps = std::stoi(val);
    else return std::fprintf(stderr, "unknown option %s\n", key.c_str()), 2;
  }
  ThreadPool::SetDefaultThreads(threads);
  auto backend = CreateBackend("cpu").value();
  const int64_t width = static_cast<int64_t>(heads) * hd;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> qkv(static_cast<size_t>(seq * 3 * width)), bias(static_cast<size_t>(heads * seq * seq));
  for (auto& x : qkv) x = nd(rng);
  for (auto& x : bias) x = nd(rng);
  Tensor out = Tensor::Zeros(DType::kF32, {1, seq, width}).value();
  std::vector<float> ref(static_cast<size_t>(seq * width));
  AttentionParams p;
  p.num_heads = p.num_kv_heads = heads;
  p.head_dim = hd;
  p.scale = 1.0f;  // T5 does not scale scores
  const float* q = qkv.data();
  const Tensor fused = Tensor::Wrap(DType::kF32, {1, seq, 3 * width}, qkv.data(), nullptr);
  const Tensor qt = fused.Columns(0, width), kt = fused.Columns(width, 2 * width), vt = fused.Columns(2 * width, 3 * width);
  const Tensor bias_t = Tensor::Wrap(DType::kF32, {heads, seq, seq}, bias.data(), nullptr);
  const double biased = MedianMs(reps, [&] { (void)backend->AttentionWithBias(qt, kt, vt, p, bias_t, out); });
  const double plain = MedianMs(reps, [&] { (void)backend->Attention(qt, kt, vt, p, out); });
  (void)backend->AttentionWithBias(qt, kt, vt, p, bias_t, out);
  const double scalar = MedianMs(reps, [&] {
    ScalarBiasedAttention(q, 3 * width, q + width, q + 2 * width, 3 * width, seq, seq, heads, hd, p.scale, bias.data(), ref.data());
  });
  double max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, static_cast<double>(std::fabs(ref[i] - out.data<float>()[i])));
  std::printf("{\"seq\":%lld,\"heads\":%d,\"head_dim\":%d,\"threads\":%d,\"attention_with_bias_ms\":%.3f,"
              "\"attention_ms\":%.3f,\"scalar_baseline_ms\":%.3f,\"speedup\":%.2f,\"max_abs_diff\":%.2e}\n",
              static_cast<long long>(seq), heads, hd, threads, biased, plain, scalar, scalar / biased, max_diff);
  return 0;
}
