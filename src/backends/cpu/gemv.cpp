#include "backends/cpu/gemv.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <string_view>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::cpu {

namespace {

// One thread's share of the panels, [front, back) packed in one word: its owner takes chunks
// from the front while a thread that has finished its own share takes chunks from the back,
// each with one compare-exchange. Lanes sit on their own cache lines.
struct alignas(64) Lane {
  std::atomic<uint64_t> range{0};
};

// Claims up to `want` panels from the front or the back of `lane`; false when it is empty.
bool Claim(Lane& lane, int64_t want, bool from_front, int64_t& p0, int64_t& p1) {
  uint64_t r = lane.range.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t f = static_cast<int64_t>(r >> 32), b = static_cast<int64_t>(r & 0xffffffffu);
    if (f >= b) return false;
    const int64_t c = std::min(want, b - f);
    const uint64_t next = from_front ? (uint64_t(f + c) << 32 | uint64_t(b)) : (uint64_t(f) << 32 | uint64_t(b - c));
    if (lane.range.compare_exchange_weak(r, next, std::memory_order_relaxed)) {
      p0 = from_front ? f : b - c;
      p1 = p0 + c;
      return true;
    }
  }
}

}  // namespace

void StreamShares(ThreadPool& pool, int64_t units, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t lanes = std::min<int64_t>(units, pool.num_threads());
  if (lanes <= 1) {
    if (units > 0) fn(0, units);
    return;
  }
  // One contiguous share per thread, streamed front to back so the prefetchers run on
  // undisturbed. Two fixed runs per thread, claimed in turn, were up to 3% slower; llama.cpp's
  // interleaving (one panel at a time from a shared counter) was no faster: 1b f32, 2 threads,
  // 4 alternating pairs in one bandwidth state, 1.5-5% slower in 3, 3.5% faster in 1. The two
  // threads of a 2-vCPU VM do not stream equally fast (measured: the caller's half took ~25%
  // longer than the worker's), so whoever finishes first takes chunks from the back of the
  // other's share. The owner claims a quarter of what is left at a time, leaving the rest to
  // be taken. A worker that has not started when the caller is done leaves its whole share to
  // the caller (ThreadPool::Run does not wait for idle workers).
  min_chunk = std::max<int64_t>(1, min_chunk);
  std::vector<Lane> lane(static_cast<size_t>(lanes));
  for (int64_t t = 0; t < lanes; ++t) {
    lane[t].range.store(uint64_t(units * t / lanes) << 32 | uint64_t(units * (t + 1) / lanes), std::memory_order_relaxed);
  }
  pool.Run(lanes, [&](int64_t t) {
    int64_t u0, u1;
    for (;;) {
      const uint64_t r = lane[t].range.load(std::memory_order_relaxed);
      const int64_t left = static_cast<int64_t>(r & 0xffffffffu) - static_cast<int64_t>(r >> 32);
      if (!Claim(lane[t], std::max(min_chunk, left / 4), true, u0, u1)) break;
      fn(u0, u1);
    }
    for (int64_t i = 1; i < lanes; ++i) {
      Lane& other = lane[(t + i) % lanes];
      while (Claim(other, min_chunk, false, u0, u1)) fn(u0, u1);
    }
  });
}

GemvPanelsFn FindGemvKernel(const PackedGemmWeight& w) {
  const CpuFeatures& f = GetCpuFeatures();
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl) return w.kernel->widen ? GemvAvx512HalfW(w) : GemvAvx512(w);
  return nullptr;
}

bool GemvPacked(const float* x, int64_t m, int64_t ldx, const PackedGemmWeight& w, float* y, int64_t ldy,
                const float* bias, Activation act, ThreadPool& pool) {
  if (m <= 0 || m > kGemvMaxRows) return false;
  const GemvPanelsFn kernel = FindGemvKernel(w);
  if (!kernel) return false;
  const int64_t panels = w.num_panels(), nr = w.kernel->nr;
  const std::function<void(int64_t, int64_t)> run = [&](int64_t p0, int64_t p1) {
    kernel(x, m, ldx, w, p0, p1, y, ldy);
    if (bias || act != Activation::kNone) {
      const int64_t c0 = p0 * nr, c1 = std::min(w.n, p1 * nr);
      w.kernel->epilogue(y + c0, ldy, m, c1 - c0, bias ? bias + c0 : nullptr, act);
    }
  };
  const int64_t panel_bytes = w.k_padded() * nr * static_cast<int64_t>(w.elem_bytes());
  StreamShares(pool, panels, std::max<int64_t>(1, (int64_t{64} << 10) / std::max<int64_t>(1, panel_bytes)), run);
  return true;
}

}  // namespace accel::cpu
