// Shared by every compute shader of the Vulkan backend: eight storage buffers bound whole (ops
// address tensors by element offsets in push constants, so strided and unaligned views need no
// descriptor per view), 32 words of push constants, and the activation functions.
layout(set = 0, binding = 0) buffer Bufs { uint w[]; } buf[8];
layout(push_constant) uniform PC { uint u[32]; } pc;

#define LDF(B, i) uintBitsToFloat(buf[B].w[i])
#define STF(B, i, v) buf[B].w[i] = floatBitsToUint(v)
#define PU(k) pc.u[k]
#define PF(k) uintBitsToFloat(pc.u[k])

// Dispatches spread over x and y (x is capped at 65535 groups).
uint flat_gid() { return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x; }
uint flat_group() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

// erf to ~1.2e-7 (Numerical Recipes' Chebyshev erfc; Abramowitz & Stegun 7.1.26 is too coarse for
// GELU goldens).
float erf_f(float x) {
  float a = abs(x);
  float t = 1.0 / (1.0 + 0.5 * a);
  float y = t * exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0.0 ? 1.0 - y : y - 1.0;
}

// tanh without exp overflow (some drivers compute tanh as a ratio of exps).
float tanh_f(float x) {
  float t = exp(-2.0 * abs(x));
  float r = (1.0 - t) / (1.0 + t);
  return x >= 0.0 ? r : -r;
}

float sigmoid_f(float x) { return 1.0 / (1.0 + exp(-x)); }

// graph/backend.h Activation: none, gelu(erf), gelu(tanh), quick_gelu, silu, relu, tanh.
float activate(uint act, float x) {
  switch (act) {
    case 1u: return 0.5 * x * (1.0 + erf_f(x * 0.70710678118654752));
    case 2u: return 0.5 * x * (1.0 + tanh_f(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case 3u: return x * sigmoid_f(1.702 * x);
    case 4u: return x * sigmoid_f(x);
    case 5u: return x > 0.0 ? x : 0.0;
    case 6u: return tanh_f(x);
    default: return x;
  }
}
