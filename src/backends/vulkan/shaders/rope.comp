#version 450
// Rotary embedding in place, one invocation per (row, head, frequency). The angle is formed and
// reduced modulo 2*pi in double (position * inv_freq loses digits in f32 at long contexts).
#include "common.glsl"
layout(local_size_x = 256) in;
// push: 0 x, 1 positions (i64, words), 2 inv_freq offsets; 4 rows, 5 x stride, 6 heads, 7 head_dim,
// 8 half, 9 interleaved, 10 attention factor
void main() {
  const uint g = flat_gid(), half_ = PU(8), heads = PU(6);
  if (g >= PU(4) * heads * half_) return;
  const uint i = g % half_, h = (g / half_) % heads, r = g / (half_ * heads);
  const int pos = int(buf[1].w[PU(1) + 2u * r]);
  const double two_pi = 6.283185307179586476925286766559LF;
  double angle = double(pos) * double(LDF(2, PU(2) + i));
  angle -= two_pi * floor(angle / two_pi);
  const float a = float(angle);
  const float c = cos(a) * PF(10), s = sin(a) * PF(10);
  const uint base = PU(0) + r * PU(5) + h * PU(7);
  const uint i0 = PU(9) != 0u ? base + 2u * i : base + i;
  const uint i1 = PU(9) != 0u ? base + 2u * i + 1u : base + i + half_;
  const float x0 = LDF(0, i0), x1 = LDF(0, i1);
  STF(0, i0, x0 * c - x1 * s);
  STF(0, i1, x1 * c + x0 * s);
}
