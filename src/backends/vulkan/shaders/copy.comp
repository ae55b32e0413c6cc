#version 450
// Row-strided copy of 32-bit words: dst[r * ds + c] = src[r * ss + c].
#include "common.glsl"
layout(local_size_x = 256) in;
// push: 0 src, 3 dst offsets; 4 rows, 5 words per row, 6 src stride, 7 dst stride
void main() {
  const uint g = flat_gid(), cols = PU(5);
  if (g >= PU(4) * cols) return;
  const uint r = g / cols, c = g % cols;
  buf[3].w[PU(3) + r * PU(7) + c] = buf[0].w[PU(0) + r * PU(6) + c];
}
