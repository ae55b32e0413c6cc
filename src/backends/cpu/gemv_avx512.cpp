// AVX-512 decode kernels on the GEMM's packed panels (gemm.h): f32 panels [k][nr] with FMA
// (gemv_panels_avx512.h), bf16 panels [k/2][nr][2] with vdpbf16ps (x rounded to bf16 like the
// GEMM's packed A). Each panel is read once, front to back; all nr outputs of every row stay in
// registers.
#include <immintrin.h>

#include <vector>

#include "backends/cpu/gemv.h"
#include "backends/cpu/gemv_panels_avx512.h"
#include "backends/cpu/mask_avx512.h"
#include "core/half.h"

namespace accel::cpu {

namespace {

using gemv_avx512::kPhases;

// x rows as bf16, two consecutive k per 32-bit word (the pairs vdpbf16ps takes), k padded to
// the panel's even length with a zero.
const uint32_t* PairsBf16(const float* x, int64_t rows, int64_t ldx, int64_t k, int64_t kp) {
  thread_local std::vector<uint16_t> buf;
  buf.assign(static_cast<size_t>(rows * kp), 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * ldx;
    uint16_t* dst = buf.data() + r * kp;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    }
    for (; i < k; ++i) dst[i] = F32ToBf16(src[i]);
  }
  return reinterpret_cast<const uint32_t*>(buf.data());
}

template <int NV, int R>
void PanelsBf16(const uint32_t* xp, int64_t pairs, const uint16_t* w, int64_t panels, int64_t n_left, float* y,
                int64_t ldy, int64_t prefetch) {
  constexpr int NR = 16 * NV, PH = kPhases<R>;
  for (int64_t p = 0; p < panels; ++p, w += pairs * NR * 2, y += NR, n_left -= NR) {
    __m512 acc[PH][R][NV];
    for (int ph = 0; ph < PH; ++ph)
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) acc[ph][r][v] = _mm512_setzero_ps();
    int64_t kp = 0;
    for (; kp + PH <= pairs; kp += PH) {
#pragma GCC unroll 2
      for (int ph = 0; ph < PH; ++ph) {
        const uint16_t* b = w + (kp + ph) * NR * 2;
        if (prefetch) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(b + 32 * v) + prefetch, _MM_HINT_T0);
        }
        __m512bh bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_load_si512(b + 32 * v);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(xp[r * pairs + kp + ph]));
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[ph][r][v] = _mm512_dpbf16_ps(acc[ph][r][v], a, bv[v]);
        }
      }
    }
    for (; kp < pairs; ++kp) {
      for (int r = 0; r < R; ++r) {
        const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(xp[r * pairs + kp]));
        for (int v = 0; v < NV; ++v) {
          acc[0][r][v] = _mm512_dpbf16_ps(acc[0][r][v], a, (__m512bh)_mm512_load_si512(w + kp * NR * 2 + 32 * v));
        }
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

template <int NV>
void RunBf16(const float* x, int64_t rows, int64_t ldx, const PackedGemmWeight& w, int64_t p0, int64_t p1, float* y,
             int64_t ldy) {
  const int64_t kp = w.k_padded(), pairs = kp / 2;
  const uint32_t* xp = PairsBf16(x, rows, ldx, w.k, kp);
  const uint16_t* panel = static_cast<const uint16_t*>(w.panel(p0, 0));
  const int64_t n_left = w.n - p0 * 16 * NV;
  const int64_t pf = p1 - p0 < w.num_panels() ? kGemvSplitPrefetchBytes : 0;
  y += p0 * 16 * NV;
  switch (rows) {
    case 1: return PanelsBf16<NV, 1>(xp, pairs, panel, p1 - p0, n_left, y, ldy, pf);
    case 2: return PanelsBf16<NV, 2>(xp, pairs, panel, p1 - p0, n_left, y, ldy, pf);
    case 3: return PanelsBf16<NV, 3>(xp, pairs, panel, p1 - p0, n_left, y, ldy, pf);
    default: return PanelsBf16<NV, 4>(xp, pairs, panel, p1 - p0, n_left, y, ldy, pf);
  }
}

}  // namespace

GemvPanelsFn GemvAvx512(const PackedGemmWeight& w) {
  // The packings of gemm.h: f32 [k][nr]; bf16 [k/2][nr][2]; nr a multiple of 16 up to 64.
  const GemmKernel& g = *w.kernel;
  if (g.dtype == DType::kF32 && g.k_group == 1) {
    // No prefetch when one call streams the whole weight (kGemvSplitPrefetchBytes).
    return gemv_avx512::RunPanelsForWidth<float, gemv_avx512::LoadF32, 0>(g.nr);
  }
  if (g.dtype == DType::kBF16 && g.k_group == 2) {
    switch (g.nr) {
      case 16: return RunBf16<1>;
      case 32: return RunBf16<2>;
      case 48: return RunBf16<3>;
      case 64: return RunBf16<4>;
    }
  }
  return nullptr;
}

}  // namespace accel::cpu
