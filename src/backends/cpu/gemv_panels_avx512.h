#pragma once
// The one f32-arithmetic decode loop over [k][nr] panels, shared by the f32 kernel
// (gemv_avx512.cpp) and the 16-bit-weight kernels (gemv_halfw_avx512.cpp): only the load of a
// panel row differs. Sharing it is what makes the 16-bit path's outputs equal the f32 path's
// on the converted weights, bit for bit: same k order, same accumulator phases.
// Include only from files compiled with the AVX-512 flags (*_avx512.cpp).
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/gemv.h"
#include "backends/cpu/mask_avx512.h"

namespace accel::cpu::gemv_avx512 {

// Independent accumulator sets over k: one row alone has only NV FMA chains, too few to cover
// the FMA latency when the panel comes from cache.
template <int R>
constexpr int kPhases = R == 1 ? 2 : 1;

inline __m512 LoadF32(const float* p) { return _mm512_load_ps(p); }

// R rows of x against `panels` panels of NV * 16 columns from w, each panel [k][NV * 16]
// elements of T widened to f32 by Load. kPrefetch: software prefetch `prefetch` bytes ahead of
// every line of the stream (otherwise the hardware prefetchers alone); a template argument so
// that the loop has no test for it.
template <typename T, int NV, int R, __m512 (*Load)(const T*), bool kPrefetch>
void Panels(const float* x, int64_t ldx, const T* w, int64_t k, int64_t panels, int64_t n_left, float* y,
            int64_t ldy, int64_t prefetch) {
  constexpr int NR = 16 * NV, PH = kPhases<R>;
  constexpr int kRowBytes = NR * static_cast<int>(sizeof(T));
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
        const T* b = w + (kk + ph) * NR;
        if constexpr (kPrefetch) {
          // Every line of the row, `prefetch` bytes ahead; rows are contiguous, so this reaches
          // every line of the stream (rows shorter than a line: once per line, at its start).
          const int64_t off = (kk + ph) * kRowBytes;
          if (kRowBytes >= 64 || off % 64 == 0) {
#pragma GCC unroll 4
            for (int l = 0; l < (kRowBytes + 63) / 64; ++l) _mm_prefetch(pf + off + 64 * l, _MM_HINT_T0);
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

template <typename T, int NV, __m512 (*Load)(const T*), bool kPrefetch>
void RunRows(const float* x, int64_t rows, int64_t ldx, const T* panel, int64_t k, int64_t panels, int64_t n_left,
             float* y, int64_t ldy, int64_t pf) {
  switch (rows) {
    case 1: return Panels<T, NV, 1, Load, kPrefetch>(x, ldx, panel, k, panels, n_left, y, ldy, pf);
    case 2: return Panels<T, NV, 2, Load, kPrefetch>(x, ldx, panel, k, panels, n_left, y, ldy, pf);
    case 3: return Panels<T, NV, 3, Load, kPrefetch>(x, ldx, panel, k, panels, n_left, y, ldy, pf);
    default: return Panels<T, NV, 4, Load, kPrefetch>(x, ldx, panel, k, panels, n_left, y, ldy, pf);
  }
}

// A GemvPanelsFn over [k][nr] panels of T: `whole_prefetch` bytes when the call streams the
// whole weight, kGemvSplitPrefetchBytes when other threads stream the rest of it.
template <typename T, int NV, __m512 (*Load)(const T*), int64_t whole_prefetch>
void RunPanels(const float* x, int64_t rows, int64_t ldx, const PackedGemmWeight& w, int64_t p0, int64_t p1, float* y,
               int64_t ldy) {
  const T* panel = static_cast<const T*>(w.panel(p0, 0));
  const int64_t n_left = w.n - p0 * 16 * NV;
  const int64_t pf = p1 - p0 < w.num_panels() ? kGemvSplitPrefetchBytes : whole_prefetch;
  y += p0 * 16 * NV;
  if constexpr (whole_prefetch == 0) {
    if (pf == 0) return RunRows<T, NV, Load, false>(x, rows, ldx, panel, w.k, p1 - p0, n_left, y, ldy, 0);
  }
  RunRows<T, NV, Load, true>(x, rows, ldx, panel, w.k, p1 - p0, n_left, y, ldy, pf);
}

// The RunPanels instance for a panel width nr (a multiple of 16 up to 64), or null.
template <typename T, __m512 (*Load)(const T*), int64_t whole_prefetch>
GemvPanelsFn RunPanelsForWidth(int nr) {
  switch (nr) {
    case 16: return RunPanels<T, 1, Load, whole_prefetch>;
    case 32: return RunPanels<T, 2, Load, whole_prefetch>;
    case 48: return RunPanels<T, 3, Load, whole_prefetch>;
    case 64: return RunPanels<T, 4, Load, whole_prefetch>;
  }
  return nullptr;
}

}  // namespace accel::cpu::gemv_avx512
