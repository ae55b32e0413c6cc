#version 450
// y[M, N] = act(x[M, K] W[N, K]^T + b) with W in blocks of 32 weights (Q8_0 or Q4_0), repacked at
// load into quant words in element order (Q8_0: 8 words of 4 int8; Q4_0: 4 words of 8 nibbles,
// weight = nibble - 8) and one f32 scale per block. The weights stay at ~1.1 or ~0.6 bytes each
// on the device instead of 4. One workgroup per output feature streams its row once per 8 rows
// of x: decode, where reading the weights is the cost, reads them once.
#include "common.glsl"
layout(local_size_x = 64) in;
// push: 0 x, 1 quant words, 2 scales, 3 bias, 4 y offsets (words); 5 M, 6 N, 7 K, 8 has_bias,
// 9 act, 10 x row stride, 11 y row stride, 12 format (0 Q8_0, 1 Q4_0)
shared float red[8][64];
void main() {
  const uint n = flat_group();
  const uint M = PU(5), N = PU(6), K = PU(7), t = gl_LocalInvocationID.x;
  if (n >= N) return;
  const bool q4 = PU(12) != 0u;
  const uint blocks = K / 32u, words = q4 ? 4u : 8u, per_word = q4 ? 8u : 4u;
  for (uint m0 = 0u; m0 < M; m0 += 8u) {
    const uint rows = min(8u, M - m0);
    float acc[8] = float[8](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (uint j = t; j < blocks; j += 64u) {
      const uint blk = n * blocks + j;
      float s[8] = float[8](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
      for (uint wi = 0u; wi < words; ++wi) {
        const uint q = buf[1].w[PU(1) + blk * words + wi];
        const uint k0 = j * 32u + wi * per_word;
        for (uint e = 0u; e < per_word; ++e) {
          const float v = q4 ? float(int((q >> (4u * e)) & 15u) - 8) : float(bitfieldExtract(int(q), int(8u * e), 8));
          for (uint m = 0u; m < rows; ++m) s[m] += v * LDF(0, PU(0) + (m0 + m) * PU(10) + k0 + e);
        }
      }
      const float d = LDF(2, PU(2) + blk);
      for (uint m = 0u; m < rows; ++m) acc[m] += d * s[m];
    }
    for (uint m = 0u; m < 8u; ++m) red[m][t] = acc[m];
    barrier();
    for (uint step = 32u; step > 0u; step >>= 1u) {
      if (t < step) {
        for (uint m = 0u; m < rows; ++m) red[m][t] += red[m][t + step];
      }
      barrier();
    }
    if (t < rows) {
      float v = red[t][0];
      if (PU(8) != 0u) v += LDF(3, PU(3) + n);
      STF(4, PU(4) + (m0 + t) * PU(11) + n, activate(PU(9), v));
    }
    barrier();  // red is reused by the next 8 rows
  }
}
