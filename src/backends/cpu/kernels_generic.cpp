// rowwise_impl.h compiled for baseline x86-64 (or any CPU), plus the run-time choice.
#define ACCEL_ISA_NS isa_generic
#include "backends/cpu/rowwise_impl.h"
#include "core/cpu_features.h"

namespace accel::cpu {
const RowKernels& RowKernelsGeneric() {
  static const RowKernels k{isa_generic::LayerNormRow, isa_generic::RmsNormRow, isa_generic::SoftmaxRow,
                            isa_generic::AttentionTask};
  return k;
}

const RowKernels& GetRowKernels() {
  static const RowKernels& k = GetCpuFeatures().avx512f ? RowKernelsAvx512() : RowKernelsGeneric();
  return k;
}
}  // namespace accel::cpu
