// f16 and bf16 weights kept in 16 bits, multiplied in f32 ("avx512-f16w", "avx512-bf16w").
// Both conversions to f32 are exact, so the product is the f32 kernel's on the converted
// weight, bit for bit: the panel keeps the f32 layout [k][nr] with 16-bit elements, the
// driver widens one slice (kc x nr) into a per-thread f32 buffer and runs the f32 tile over
// every row of A against it. The conversion costs one vcvtph2ps (or a shift) per 16 weights
// per row chunk of up to 256 rows, a few percent of the tile's FMAs at 8 rows and well under
// one at prefill sizes; at decode (gemv_halfw_avx512.cpp) the weights are read in 16 bits.
#include <immintrin.h>

#include <cstdlib>
#include <memory>

#include "backends/cpu/gemm.h"
#include "backends/cpu/half_avx512.h"

namespace accel::cpu {

namespace {

// The calling thread's widened slice: 48 KiB at kc = 256, nr = 48, reused for every slice so
// that it stays in L1 (the f32 path reads its packed slice from there too).
float* Scratch(int64_t n) {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<float, Free> buf;
  thread_local int64_t capacity = 0;
  if (n > capacity) {
    const int64_t want = (n + 1023) / 1024 * 1024;
    buf.reset(static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(want) * sizeof(float))));
    if (!buf) std::abort();  // 48 KiB: nothing sensible is left to do without it
    capacity = want;
  }
  return buf.get();
}

// nr is a multiple of 16 for every AVX-512 kernel, so kc * nr is too.
template <__m512 (*Load)(const uint16_t*)>
const float* Widen(const void* panel, int64_t kc, int64_t nr) {
  const int64_t n = kc * nr;
  float* out = Scratch(n);
  const uint16_t* src = static_cast<const uint16_t*>(panel);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 a = Load(src + i), b = Load(src + i + 16), c = Load(src + i + 32), d = Load(src + i + 48);
    _mm512_store_ps(out + i, a);
    _mm512_store_ps(out + i + 16, b);
    _mm512_store_ps(out + i + 32, c);
    _mm512_store_ps(out + i + 48, d);
  }
  for (; i < n; i += 16) _mm512_store_ps(out + i, Load(src + i));
  return out;
}

GemmKernel HalfStorage(const char* name, DType dtype, WidenPanelFn widen) {
  GemmKernel k = GemmKernelAvx512F32();  // its row blocking, A packing, tile and epilogue
  k.name = name;
  k.dtype = dtype;
  k.widen = widen;
  return k;
}

}  // namespace

const GemmKernel& GemmKernelAvx512HalfW(DType weight) {
  static const GemmKernel f16 = HalfStorage("avx512-f16w", DType::kF16, Widen<avx512::LoadF16>);
  static const GemmKernel bf16 = HalfStorage("avx512-bf16w", DType::kBF16, Widen<avx512::LoadBf16>);
  return weight == DType::kF16 ? f16 : bf16;
}

}  // namespace accel::cpu
