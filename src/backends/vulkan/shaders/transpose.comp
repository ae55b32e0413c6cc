#version 450
// y[b, c, r] = x[b, r, c] over 32-bit words.
#include "common.glsl"
layout(local_size_x = 256) in;
// push: 0 x, 3 y offsets; 4 batch, 5 R, 6 C
void main() {
  const uint g = flat_gid(), R = PU(5), C = PU(6);
  if (g >= PU(4) * R * C) return;
  const uint c = g % C, r = (g / C) % R, b = g / (R * C);
  buf[3].w[PU(3) + (b * C + c) * R + r] = buf[0].w[PU(0) + g];
}
