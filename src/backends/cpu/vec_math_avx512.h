#pragma once
// Vectorised transcendental functions on 16 floats (AVX-512F), accurate to a few ulp in the
// ranges activations use. Include only from *_avx512.cpp files (compiled with -mavx512f).
#include <immintrin.h>

#include "graph/backend.h"

namespace accel::cpu::avx512 {

// e^x: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r, then scale by 2^n.
inline __m512 Exp(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-87.3f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// erf(x), Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7).
inline __m512 Erf(__m512 x) {
  __m512 ax = _mm512_abs_ps(x);
  __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(ax, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  p = _mm512_mul_ps(p, t);
  __m512 e = Exp(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), ax), ax));
  __m512 y = _mm512_fnmadd_ps(p, e, _mm512_set1_ps(1.0f));
  // copy the sign of x
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x80000000));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); for |x| < 0.0625 a short series keeps relative accuracy.
inline __m512 Tanh(__m512 x) {
  __m512 ax = _mm512_abs_ps(x);
  __m512 e = Exp(_mm512_mul_ps(ax, _mm512_set1_ps(2.0f)));
  __m512 y = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  __m512 x2 = _mm512_mul_ps(ax, ax);
  __m512 series = _mm512_mul_ps(ax, _mm512_fmadd_ps(x2, _mm512_fmadd_ps(x2, _mm512_set1_ps(2.0f / 15), _mm512_set1_ps(-1.0f / 3)), _mm512_set1_ps(1.0f)));
  __mmask16 small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0625f), _CMP_LT_OQ);
  y = _mm512_mask_mov_ps(y, small, series);
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x80000000));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

inline __m512 Sigmoid(__m512 x) {
  return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), Exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

inline __m512 Activate(Activation act, __m512 x) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kGeluErf:
      return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)),
                           _mm512_add_ps(_mm512_set1_ps(1.0f), Erf(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)))));
    case Activation::kGeluTanh: {
      __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
      __m512 inner = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), _mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), x));
      return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(_mm512_set1_ps(1.0f), Tanh(inner)));
    }
    case Activation::kQuickGelu: return _mm512_mul_ps(x, Sigmoid(_mm512_mul_ps(x, _mm512_set1_ps(1.702f))));
    case Activation::kSilu: return _mm512_mul_ps(x, Sigmoid(x));
    case Activation::kRelu: return _mm512_max_ps(x, _mm512_setzero_ps());
    case Activation::kTanh: return Tanh(x);
  }
  return x;
}

}  // namespace accel::cpu::avx512
