#version 450
// y[M, N] = act(x[M, K] W[N, K]^T + b): 64x64 output tiles, 16x16 invocations of 4x4 outputs
// each, K in steps of 16 through shared memory (stored k-major so the inner loop reads rows).
#include "common.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
// push: 0 x, 1 w, 2 bias, 3 y offsets; 4 M, 5 N, 6 K, 7 has_bias, 8 act, 9 x row stride, 10 y row stride
shared float xs[16][65];
shared float ws[16][65];
void main() {
  const uint M = PU(4), N = PU(5), K = PU(6), xstr = PU(9), ystr = PU(10);
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, tid = ty * 16u + tx;
  const uint m0 = gl_WorkGroupID.y * 64u, n0 = gl_WorkGroupID.x * 64u;
  float acc[4][4];
  for (uint i = 0u; i < 4u; ++i)
    for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;
  for (uint k0 = 0u; k0 < K; k0 += 16u) {
    for (uint l = 0u; l < 4u; ++l) {
      const uint idx = tid + l * 256u, r = idx / 16u, kk = idx % 16u, k = k0 + kk;
      const uint m = m0 + r, n = n0 + r;
      xs[kk][r] = (m < M && k < K) ? LDF(0, PU(0) + m * xstr + k) : 0.0;
      ws[kk][r] = (n < N && k < K) ? LDF(1, PU(1) + n * K + k) : 0.0;
    }
    barrier();
    for (uint kk = 0u; kk < 16u; ++kk) {
      float a[4], b[4];
      for (uint i = 0u; i < 4u; ++i) a[i] = xs[kk][ty + 16u * i];
      for (uint j = 0u; j < 4u; ++j) b[j] = ws[kk][tx + 16u * j];
      for (uint i = 0u; i < 4u; ++i)
        for (uint j = 0u; j < 4u; ++j) acc[i][j] += a[i] * b[j];
    }
    barrier();
  }
  for (uint i = 0u; i < 4u; ++i) {
    const uint m = m0 + ty + 16u * i;
    if (m >= M) continue;
    for (uint j = 0u; j < 4u; ++j) {
      const uint n = n0 + tx + 16u * j;
      if (n >= N) continue;
      float v = acc[i][j];
      if (PU(7) != 0u) v += LDF(2, PU(2) + n);
      STF(3, PU(3) + m * ystr + n, activate(PU(8), v));
    }
  }
}
