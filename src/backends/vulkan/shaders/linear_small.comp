#version 450
// y[M, N] = act(x[M, K] W[N, K]^T + b) for small M or N: 16x16 output tiles, K in steps of 16
// through shared memory (the 64x64 tiles of linear.comp would mostly compute padding).
#include "common.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
// push: 0 x, 1 w, 2 bias, 3 y offsets; 4 M, 5 N, 6 K, 7 has_bias, 8 act, 9 x row stride, 10 y row stride
shared float xs[16][17];
shared float ws[16][17];
void main() {
  const uint M = PU(4), N = PU(5), K = PU(6), xstr = PU(9), ystr = PU(10);
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  const uint m0 = gl_WorkGroupID.y * 16u, n0 = gl_WorkGroupID.x * 16u;
  float acc = 0.0;
  for (uint k0 = 0u; k0 < K; k0 += 16u) {
    const uint k = k0 + tx;
    const uint xm = m0 + ty, wn = n0 + ty;
    xs[ty][tx] = (xm < M && k < K) ? LDF(0, PU(0) + xm * xstr + k) : 0.0;
    ws[ty][tx] = (wn < N && k < K) ? LDF(1, PU(1) + wn * K + k) : 0.0;
    barrier();
    for (uint kk = 0u; kk < 16u; ++kk) acc += xs[ty][kk] * ws[tx][kk];
    barrier();
  }
  const uint m = m0 + ty, n = n0 + tx;
  if (m < M && n < N) {
    if (PU(7) != 0u) acc += LDF(2, PU(2) + n);
    STF(3, PU(3) + m * ystr + n, activate(PU(8), acc));
  }
}
