#pragma once
// The decode path of Linear: y[m, n] = x[m, k] W^T (+ bias, activation) for a handful of rows
// (m <= kGemvMaxRows) on the same packed panels the GEMM uses (gemm.h). With one row, Linear is
// a stream over the weight bytes: the GEMM's row-block packing, K blocking and C re-loads are
// pure overhead there, so this path reads each panel once, front to back, keeping every
// output of the panel in registers, with the panels split into contiguous runs per thread.
#include <cstdint>
#include <functional>

#include "backends/cpu/gemm.h"

namespace accel {
class ThreadPool;
}

namespace accel::cpu {

inline constexpr int64_t kGemvMaxRows = 4;

// Software prefetch distance of the kernels when a call streams part of a weight that other
// threads stream too. Measured (GEMV sequences of the 125m and 1b LLaMA shapes): on 2 threads
// 8 KiB ahead reads 2-7% faster than the hardware prefetchers alone (1b bf16 45.0 -> 41.8 ms);
// on one thread any distance was slower (1b f32 101 -> 103-107 ms), so a whole-weight call
// does not prefetch.
inline constexpr int64_t kGemvSplitPrefetchBytes = 8192;

// rows <= kGemvMaxRows rows of x (f32, row stride ldx) against panels [p0, p1) of w: writes
// columns [p0 * nr, min(n, p1 * nr)) of y (row stride ldy), before bias and activation.
using GemvPanelsFn = void (*)(const float* x, int64_t rows, int64_t ldx, const PackedGemmWeight& w, int64_t p0,
                              int64_t p1, float* y, int64_t ldy);

// The kernel for this weight's packing, or null when there is none (the GEMM then runs).
GemvPanelsFn FindGemvKernel(const PackedGemmWeight& w);

// Runs the product when a kernel exists for w and m <= kGemvMaxRows; returns whether it did.
bool GemvPacked(const float* x, int64_t m, int64_t ldx, const PackedGemmWeight& w, float* y, int64_t ldy,
                const float* bias, Activation act, ThreadPool& pool);

// Splits [0, units) of a weight stream over the pool's threads for decode: one contiguous share
// per thread, taken front to back in calls fn(u0, u1) of at least `min_chunk` units; a thread
// done with its share takes chunks from the back of another's. One thread: fn(0, units).
void StreamShares(ThreadPool& pool, int64_t units, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn);

// Per-ISA kernels (gemv_avx512.cpp): null when the packing is one they do not know.
GemvPanelsFn GemvAvx512(const PackedGemmWeight& w);
// 16-bit panels under f32 arithmetic (gemv_halfw_avx512.cpp), likewise.
GemvPanelsFn GemvAvx512HalfW(const PackedGemmWeight& w);

}  // namespace accel::cpu
