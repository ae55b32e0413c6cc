#version 450
// y[M, N] = act(x[M, K] W[N, K]^T + b) for decode-sized M (<= 8): one workgroup per output
// feature streams its weight row once for all M rows (the GEMM tile would idle 15/16 of its
// threads at M = 1).
#include "common.glsl"
layout(local_size_x = 128) in;
// push: as linear.comp (0 x, 1 w, 2 bias, 3 y offsets; 4 M, 5 N, 6 K, 7 has_bias, 8 act,
// 9 x row stride, 10 y row stride)
shared float red[8][128];
void main() {
  const uint n = flat_group();
  const uint M = PU(4), N = PU(5), K = PU(6), t = gl_LocalInvocationID.x;
  if (n >= N) return;
  float acc[8] = float[8](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  const uint wb = PU(1) + n * K;
  for (uint k = t; k < K; k += 128u) {
    const float w = LDF(1, wb + k);
    for (uint m = 0u; m < M; ++m) acc[m] += w * LDF(0, PU(0) + m * PU(9) + k);
  }
  for (uint m = 0u; m < 8u; ++m) red[m][t] = acc[m];
  barrier();
  for (uint s = 64u; s > 0u; s >>= 1u) {
    if (t < s) {
      for (uint m = 0u; m < M; ++m) red[m][t] += red[m][t + s];
    }
    barrier();
  }
  if (t < M) {
    float v = red[t][0];
    if (PU(7) != 0u) v += LDF(2, PU(2) + n);
    STF(3, PU(3) + t * PU(10) + n, activate(PU(8), v));
  }
}
