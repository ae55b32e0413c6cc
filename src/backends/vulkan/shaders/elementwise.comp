#version 450
// Elementwise ops over dense tensors. mode 0: x = act(x); 1: x *= s; 2: y = a + b[i % bn]; 3: y = a * b;
// 4: y[r, c] = act(g[r, c]) * g[r, F + c] (gated activation, F = bn).
#include "common.glsl"
layout(local_size_x = 256) in;
// push: 0 a, 1 b, 3 y offsets; 4 n, 5 bn, 6 mode, 7 act, 8 scale
void main() {
  const uint i = flat_gid();
  if (i >= PU(4)) return;
  const uint mode = PU(6);
  if (mode == 0u) {
    STF(0, PU(0) + i, activate(PU(7), LDF(0, PU(0) + i)));
  } else if (mode == 1u) {
    STF(0, PU(0) + i, LDF(0, PU(0) + i) * PF(8));
  } else if (mode == 2u) {
    STF(3, PU(3) + i, LDF(0, PU(0) + i) + LDF(1, PU(1) + i % PU(5)));
  } else if (mode == 3u) {
    STF(3, PU(3) + i, LDF(0, PU(0) + i) * LDF(1, PU(1) + i));
  } else {
    const uint f = PU(5), r = i / f, c = i % f;
    const uint g = PU(0) + r * 2u * f + c;
    STF(3, PU(3) + i, activate(PU(7), LDF(0, g)) * LDF(0, g + f));
  }
}
