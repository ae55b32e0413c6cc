#version 450
// Attention, one invocation per (batch, head, query row): scores against the visible keys
// (causal / sliding window / mask), the row's max, then exp-weighted V accumulated into the
// output row. Serves Attention, AttentionWithBias and CachedAttention (GQA, ALiBi).
#include "common.glsl"
layout(local_size_x = 64) in;
// bindings: 0 q, 1 k, 2 v, 3 out, 4 mask, 5 score bias, 6 alibi slopes, 7 key positions
// push: 0..7 offsets (mask in bytes for u8, else in words); 8 batch, 9 q_len, 10 kv_len, 11 heads,
// 12 kv heads, 13 head_dim, 14 q stride, 15 kv row stride, 16 kv batch stride, 17 scale, 18 causal,
// 19 window, 20 query offset, 21 mask mode (0 none, 1 i64, 2 i32, 3 f32, 4 u8), 22 mask stride,
// 23 has bias, 24 nothing visible: 0 uniform mean of all keys, 1 zeros, 25 has alibi,
// 26 key-position stride
bool allowed(uint b, uint j) {
  const uint mode = PU(21);
  if (mode == 0u) return true;
  const uint idx = b * PU(22) + j;
  if (mode == 1u) return buf[4].w[PU(4) + 2u * idx] != 0u || buf[4].w[PU(4) + 2u * idx + 1u] != 0u;
  if (mode == 2u) return buf[4].w[PU(4) + idx] != 0u;
  if (mode == 3u) return uintBitsToFloat(buf[4].w[PU(4) + idx]) != 0.0;
  const uint byte_at = PU(4) + idx;
  return ((buf[4].w[byte_at >> 2u] >> ((byte_at & 3u) * 8u)) & 0xffu) != 0u;
}
void main() {
  const uint g = flat_gid();
  const uint batch = PU(8), q_len = PU(9), kv_len = PU(10), H = PU(11), D = PU(13);
  if (g >= batch * H * q_len) return;
  const uint i = g % q_len, h = (g / q_len) % H, b = g / (q_len * H);
  const uint kh = h / (H / PU(12));
  const uint pos = PU(20) + i;
  const uint key_end = PU(18) != 0u ? min(kv_len, pos + 1u) : kv_len;
  uint key_begin = (PU(19) > 0u && pos + 1u > PU(19)) ? pos + 1u - PU(19) : 0u;
  key_begin = min(key_begin, key_end);
  const uint qb = PU(0) + (b * q_len + i) * PU(14) + h * D;
  const uint kb = PU(1) + b * PU(16) + kh * D, vb = PU(2) + b * PU(16) + kh * D;
  const uint ob = PU(3) + (b * q_len + i) * H * D + h * D;
  const uint biasb = PU(5) + (h * q_len + i) * kv_len;
  const float scale = PF(17);
  const float slope = PU(25) != 0u ? LDF(6, PU(6) + h) : 0.0;
  float mx = -1.0 / 0.0;
  uint visible = 0u;
  for (uint j = key_begin; j < key_end; ++j) {
    if (!allowed(b, j)) continue;
    float s = 0.0;
    for (uint e = 0u; e < D; ++e) s += LDF(0, qb + e) * LDF(1, kb + j * PU(15) + e);
    s *= scale;
    if (PU(23) != 0u) s += LDF(5, biasb + j);
    if (PU(25) != 0u) s += slope * LDF(7, PU(7) + b * PU(26) + j);
    mx = max(mx, s);
    ++visible;
  }
  // The output in registers, 32 dimensions per sweep over the keys (scores recomputed per sweep).
  for (uint e0 = 0u; e0 < D; e0 += 32u) {
    const uint n = min(32u, D - e0);
    float acc[32];
    for (uint e = 0u; e < 32u; ++e) acc[e] = 0.0;
    float sum = 0.0;
    if (visible == 0u) {
      if (PU(24) == 0u) {
        for (uint j = 0u; j < kv_len; ++j)
          for (uint e = 0u; e < n; ++e) acc[e] += LDF(2, vb + j * PU(15) + e0 + e);
        sum = float(kv_len);
      }
    } else {
      for (uint j = key_begin; j < key_end; ++j) {
        if (!allowed(b, j)) continue;
        float s = 0.0;
        for (uint e = 0u; e < D; ++e) s += LDF(0, qb + e) * LDF(1, kb + j * PU(15) + e);
        s *= scale;
        if (PU(23) != 0u) s += LDF(5, biasb + j);
        if (PU(25) != 0u) s += slope * LDF(7, PU(7) + b * PU(26) + j);
        const float p = exp(s - mx);
        sum += p;
        for (uint e = 0u; e < n; ++e) acc[e] += p * LDF(2, vb + j * PU(15) + e0 + e);
      }
    }
    const float inv = sum > 0.0 ? 1.0 / sum : 0.0;
    for (uint e = 0u; e < n; ++e) STF(3, ob + e0 + e, acc[e] * inv);
  }
}
