#version 450
// One workgroup per gamma-wide group of a row (the whole row when gamma is as wide).
#include "common.glsl"
layout(local_size_x = 128) in;
// push: 0 x, 1 gamma, 3 y offsets; 4 group width, 5 groups per row, 6 rows, 7 x stride, 8 y stride, 9 eps
shared float red[128];
void main() {
  const uint g = flat_group();
  const uint gpr = PU(5);
  if (g >= PU(6) * gpr) return;
  const uint row = g / gpr, at = (g % gpr) * PU(4), n = PU(4), t = gl_LocalInvocationID.x;
  const uint xb = PU(0) + row * PU(7) + at, yb = PU(3) + row * PU(8) + at;
  float s = 0.0;
  for (uint i = t; i < n; i += 128u) { const float x = LDF(0, xb + i); s += x * x; }
  red[t] = s;
  barrier();
  for (uint k = 64u; k > 0u; k >>= 1u) {
    if (t < k) red[t] += red[t + k];
    barrier();
  }
  const float inv = 1.0 / sqrt(red[0] / float(n) + PF(9));
  for (uint i = t; i < n; i += 128u) STF(3, yb + i, LDF(0, xb + i) * inv * LDF(1, PU(1) + i));
}
