#version 450
// One workgroup per row: mean, then the centred variance (two passes, as the CPU does).
#include "common.glsl"
layout(local_size_x = 128) in;
// push: 0 x, 1 gamma, 2 beta, 3 y offsets; 4 n, 5 rows, 6 x stride, 7 y stride, 8 has_beta, 9 eps
shared float red[128];
float block_sum(float v) {
  const uint t = gl_LocalInvocationID.x;
  red[t] = v;
  barrier();
  for (uint s = 64u; s > 0u; s >>= 1u) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  const float r = red[0];
  barrier();
  return r;
}
void main() {
  const uint row = flat_group();
  if (row >= PU(5)) return;
  const uint n = PU(4), t = gl_LocalInvocationID.x;
  const uint xb = PU(0) + row * PU(6), yb = PU(3) + row * PU(7);
  float s = 0.0;
  for (uint i = t; i < n; i += 128u) s += LDF(0, xb + i);
  const float mean = block_sum(s) / float(n);
  float v = 0.0;
  for (uint i = t; i < n; i += 128u) { const float d = LDF(0, xb + i) - mean; v += d * d; }
  const float inv = 1.0 / sqrt(block_sum(v) / float(n) + PF(9));
  for (uint i = t; i < n; i += 128u) {
    const float b = PU(8) != 0u ? LDF(2, PU(2) + i) : 0.0;
    STF(3, yb + i, (LDF(0, xb + i) - mean) * inv * LDF(1, PU(1) + i) + b);
  }
}
