#version 450
// out[i, :] = table[ids[i], :] (ids checked on the host before the dispatch).
#include "common.glsl"
layout(local_size_x = 256) in;
// push: 0 table, 1 ids, 3 out offsets (ids in 32-bit words); 4 n ids, 5 width, 6 ids are i64
void main() {
  const uint g = flat_gid(), width = PU(5);
  if (g >= PU(4) * width) return;
  const uint i = g / width, c = g % width;
  const uint id = PU(6) != 0u ? buf[1].w[PU(1) + 2u * i] : buf[1].w[PU(1) + i];
  buf[3].w[PU(3) + i * width + c] = buf[0].w[PU(0) + id * width + c];
}
