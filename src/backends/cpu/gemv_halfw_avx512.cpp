// Decode kernels on 16-bit panels under f32 arithmetic ("avx512-f16w", "avx512-bf16w"; gemm.h):
// the f32 matrix-vector kernel with each panel row loaded as 16-bit values and widened in
// registers (vcvtph2ps for f16, a 16-bit shift for bf16), so a decode step streams half the
// bytes. Accumulation order is the f32 kernel's (gemv_avx512.cpp): same k order, the same two
// phases for one row, so the outputs equal the f32 path's on the converted weights, bit for bit.
#include <immintrin.h>

#include "backends/cpu/gemv.h"
#include "backends/cpu/mask_avx512.h"

namespace accel::cpu {

namespace {

template <int R>
constexpr int kPhases = R == 1 ? 2 : 1;

// Unlike the f32 and bf16 kernels, these prefetch on one thread too: with the widening in the
// loop, 4 KiB ahead measured 7-15% faster than the hardware prefetchers alone (medians of 5-6
// alternating runs, 1 thread: 1b f16 63.5 -> 57.6 ms/token, 1b bf16w 61.2 -> 57.6, 125m f16
// 5.95 -> 5.51, 125m bf16w 6.35 -> 5.40; 2 KiB did nothing). Split calls use the f32 kernels'
// distance (kGemvSplitPrefetchBytes).
constexpr int64_t kWholePrefetchBytes = 4096;

inline __m512 LoadF16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
}

inline __m512 LoadBf16(const uint16_t* p) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

template <int NV, int R, __m512 (*Load)(const uint16_t*)>
void Panels(const float* x, int64_t ldx, const uint16_t* w, int64_t k, int64_t panels, int64_t n_left, float* y,
            int64_t ldy, int64_t prefetch) {
  constexpr int NR = 16 * NV, PH = kPhases<R>;
  for (int64_t p = 0; p < panels; ++p, w += k * NR, y += NR, n_left -= NR) {
    __m512 acc[PH][R][NV];
    for (int ph = 0; ph < PH; ++ph)
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) acc[ph][r][v] = _mm512_setzero_ps();
    const char* pf = reinterpret_cast<const char*>(w) + prefetch;
    int64_t kk = 0;
    for (; kk + PH <= k; kk += PH) {
#pragma GCC unroll 2
      for (int ph = 0; ph < PH; ++ph) {
        const uint16_t* b = w + (kk + ph) * NR;
        if (prefetch) {
          // `prefetch` bytes ahead of the line at the row's start and the lines after it within
          // the row (2 NR bytes): as rows are contiguous this reaches every line of the stream,
          // once or twice (NV = 1: 32-byte rows, every other k).
          const int64_t off = (kk + ph) * NR * 2;
          if (NR * 2 >= 64 || off % 64 == 0) {
#pragma GCC unroll 4
            for (int l = 0; l < (NR * 2 + 63) / 64; ++l) _mm_prefetch(pf + off + 64 * l, _MM_HINT_T0);
          }
        }
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = Load(b + 16 * v);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m512 a = _mm512_set1_ps(x[r * ldx + kk + ph]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[ph][r][v] = _mm512_fmadd_ps(a, bv[v], acc[ph][r][v]);
        }
      }
    }
    for (; kk < k; ++kk) {
      for (int r = 0; r < R; ++r) {
        const __m512 a = _mm512_set1_ps(x[r * ldx + kk]);
        for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_fmadd_ps(a, Load(w + kk * NR + 16 * v), acc[0][r][v]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int v = 0; v < NV; ++v) {
        __m512 s = acc[0][r][v];
        for (int ph = 1; ph < PH; ++ph) s = _mm512_add_ps(s, acc[ph][r][v]);
        _mm512_mask_storeu_ps(y + r * ldy + 16 * v, avx512::MaskFor(n_left - 16 * v), s);
      }
    }
  }
}

template <int NV, __m512 (*Load)(const uint16_t*)>
void Run(const float* x, int64_t rows, int64_t ldx, const PackedGemmWeight& w, int64_t p0, int64_t p1, float* y,
         int64_t ldy) {
  const uint16_t* panel = static_cast<const uint16_t*>(w.panel(p0, 0));
  const int64_t n_left = w.n - p0 * 16 * NV;
  const int64_t pf = p1 - p0 < w.num_panels() ? kGemvSplitPrefetchBytes : kWholePrefetchBytes;
  y += p0 * 16 * NV;
  switch (rows) {
    case 1: return Panels<NV, 1, Load>(x, ldx, panel, w.k, p1 - p0, n_left, y, ldy, pf);
    case 2: return Panels<NV, 2, Load>(x, ldx, panel, w.k, p1 - p0, n_left, y, ldy, pf);
    case 3: return Panels<NV, 3, Load>(x, ldx, panel, w.k, p1 - p0, n_left, y, ldy, pf);
    default: return Panels<NV, 4, Load>(x, ldx, panel, w.k, p1 - p0, n_left, y, ldy, pf);
  }
}

template <__m512 (*Load)(const uint16_t*)>
GemvPanelsFn ForWidth(int nr) {
  switch (nr) {
    case 16: return Run<1, Load>;
    case 32: return Run<2, Load>;
    case 48: return Run<3, Load>;
    case 64: return Run<4, Load>;
  }
  return nullptr;
}

}  // namespace

GemvPanelsFn GemvAvx512HalfW(const PackedGemmWeight& w) {
  // The widened kernels of gemm.h: 16-bit [k][nr] panels, nr a multiple of 16 up to 64.
  const GemmKernel& g = *w.kernel;
  if (!g.widen || g.k_group != 1) return nullptr;
  if (g.dtype == DType::kF16) return ForWidth<LoadF16>(g.nr);
  if (g.dtype == DType::kBF16) return ForWidth<LoadBf16>(g.nr);
  return nullptr;
}

}  // namespace accel::cpu
