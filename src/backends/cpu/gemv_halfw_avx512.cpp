// Decode kernels on 16-bit panels under f32 arithmetic ("avx512-f16w", "avx512-bf16w"; gemm.h):
// the f32 matrix-vector kernel with each panel row loaded as 16-bit values and widened in
// registers (vcvtph2ps for f16, a 16-bit shift for bf16), so a decode step streams half the
// bytes. The loop is the f32 kernel's (gemv_panels_avx512.h): same k order, the same two
// phases for one row, so the outputs equal the f32 path's on the converted weights, bit for bit.
#include <immintrin.h>

#include "backends/cpu/gemv.h"
#include "backends/cpu/gemv_panels_avx512.h"
#include "backends/cpu/half_avx512.h"

namespace accel::cpu {

namespace {

// Unlike the f32 and bf16 kernels, these prefetch on one thread too: with the widening in the
// loop, 4 KiB ahead measured 7-15% faster than the hardware prefetchers alone (medians of 5-6
// alternating runs, 1 thread: 1b f16 63.5 -> 57.6 ms/token, 1b bf16w 61.2 -> 57.6, 125m f16
// 5.95 -> 5.51, 125m bf16w 6.35 -> 5.40; 2 KiB did nothing). Split calls use the f32 kernels'
// distance (kGemvSplitPrefetchBytes).
constexpr int64_t kWholePrefetchBytes = 4096;

}  // namespace

GemvPanelsFn GemvAvx512HalfW(const PackedGemmWeight& w) {
  // The widened kernels of gemm.h: 16-bit [k][nr] panels, nr a multiple of 16 up to 64.
  using gemv_avx512::RunPanelsForWidth;
  const GemmKernel& g = *w.kernel;
  if (!g.widen || g.k_group != 1) return nullptr;
  if (g.dtype == DType::kF16) return RunPanelsForWidth<uint16_t, avx512::LoadF16, kWholePrefetchBytes>(g.nr);
  if (g.dtype == DType::kBF16) return RunPanelsForWidth<uint16_t, avx512::LoadBf16, kWholePrefetchBytes>(g.nr);
  return nullptr;
}

}  // namespace accel::cpu
