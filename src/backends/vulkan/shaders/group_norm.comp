#version 450
// torch.nn.GroupNorm over x [B, C, L], one workgroup per (batch item, group): the mean, then the
// centred variance, then scale and shift per channel.
#include "common.glsl"
layout(local_size_x = 128) in;
// push: 0 x, 1 gamma, 2 beta, 3 y offsets; 4 B, 5 C, 6 L, 7 groups, 8 has_beta, 9 eps
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
  const uint wg = flat_group(), groups = PU(7), C = PU(5), L = PU(6);
  if (wg >= PU(4) * groups) return;
  const uint b = wg / groups, grp = wg % groups, per = C / groups, n = per * L, t = gl_LocalInvocationID.x;
  const uint base = (b * C + grp * per) * L;
  float s = 0.0;
  for (uint i = t; i < n; i += 128u) s += LDF(0, PU(0) + base + i);
  const float mean = block_sum(s) / float(n);
  float v = 0.0;
  for (uint i = t; i < n; i += 128u) { const float d = LDF(0, PU(0) + base + i) - mean; v += d * d; }
  const float inv = 1.0 / sqrt(block_sum(v) / float(n) + PF(9));
  for (uint i = t; i < n; i += 128u) {
    const uint c = grp * per + i / L;
    const float shift = PU(8) != 0u ? LDF(2, PU(2) + c) : 0.0;
    STF(3, PU(3) + base + i, (LDF(0, PU(0) + base + i) - mean) * inv * LDF(1, PU(1) + c) + shift);
  }
}
