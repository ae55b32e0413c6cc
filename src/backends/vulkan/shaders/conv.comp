#version 450
// Direct convolution, one invocation per output element; Conv1d is the 2-D case with one row.
#include "common.glsl"
layout(local_size_x = 256) in;
// bindings: 0 x [B, Cin, H, W], 1 w [Cout, Cin/groups, Kh, Kw], 2 bias, 3 y [B, Cout, Ho, Wo]
// push: 0 x, 1 w, 2 bias, 3 y offsets; 4 B, 5 Cin, 6 H, 7 W, 8 Cout, 9 Kh, 10 Kw, 11 Ho, 12 Wo,
// 13 stride, 14 pad_h, 15 pad_w, 16 groups, 17 has_bias
void main() {
  const uint g = flat_gid();
  const uint B = PU(4), Cin = PU(5), H = PU(6), W = PU(7), Cout = PU(8), Kh = PU(9), Kw = PU(10);
  const uint Ho = PU(11), Wo = PU(12), stride = PU(13), groups = PU(16);
  if (g >= B * Cout * Ho * Wo) return;
  const uint ox = g % Wo, oy = (g / Wo) % Ho, co = (g / (Wo * Ho)) % Cout, b = g / (Wo * Ho * Cout);
  const uint cin_g = Cin / groups, cout_g = Cout / groups, grp = co / cout_g;
  float acc = PU(17) != 0u ? LDF(2, PU(2) + co) : 0.0;
  for (uint c = 0u; c < cin_g; ++c) {
    const uint ci = grp * cin_g + c;
    for (uint ky = 0u; ky < Kh; ++ky) {
      const int iy = int(oy * stride + ky) - int(PU(14));
      if (iy < 0 || iy >= int(H)) continue;
      for (uint kx = 0u; kx < Kw; ++kx) {
        const int ix = int(ox * stride + kx) - int(PU(15));
        if (ix < 0 || ix >= int(W)) continue;
        acc += LDF(0, PU(0) + ((b * Cin + ci) * H + uint(iy)) * W + uint(ix)) *
               LDF(1, PU(1) + ((co * cin_g + c) * Kh + ky) * Kw + kx);
      }
    }
  }
  STF(3, PU(3) + g, acc);
}
