#version 450
// In place over dense rows, one workgroup per row.
#include "common.glsl"
layout(local_size_x = 128) in;
// push: 0 x offset; 4 n, 5 rows
shared float red[128];
void main() {
  const uint row = flat_group();
  if (row >= PU(5)) return;
  const uint n = PU(4), t = gl_LocalInvocationID.x, xb = PU(0) + row * n;
  float mx = -1.0 / 0.0;
  for (uint i = t; i < n; i += 128u) mx = max(mx, LDF(0, xb + i));
  red[t] = mx;
  barrier();
  for (uint k = 64u; k > 0u; k >>= 1u) {
    if (t < k) red[t] = max(red[t], red[t + k]);
    barrier();
  }
  mx = red[0];
  barrier();
  float s = 0.0;
  for (uint i = t; i < n; i += 128u) { const float e = exp(LDF(0, xb + i) - mx); STF(0, xb + i, e); s += e; }
  red[t] = s;
  barrier();
  for (uint k = 64u; k > 0u; k >>= 1u) {
    if (t < k) red[t] += red[t + k];
    barrier();
  }
  const float inv = 1.0 / red[0];
  for (uint i = t; i < n; i += 128u) STF(0, xb + i, LDF(0, xb + i) * inv);
}
