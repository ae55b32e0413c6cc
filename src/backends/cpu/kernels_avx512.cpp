// rowwise_impl.h compiled for AVX-512; attention has its own kernel (attention_avx512.cpp).
#define ACCEL_ISA_NS isa_avx512
#include "backends/cpu/rowwise_impl.h"

namespace accel::cpu {
const RowKernels& RowKernelsAvx512() {
  static const RowKernels k{isa_avx512::LayerNormRow, isa_avx512::RmsNormRow, isa_avx512::SoftmaxRow,
                            AttentionTaskAvx512};
  return k;
}
}  // namespace accel::cpu
