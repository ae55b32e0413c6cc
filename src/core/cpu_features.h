#pragma once
// The instruction-set extensions this CPU and OS support, read once with CPUID/XGETBV.
// Kernels dispatch on it at run time; the build itself targets baseline x86-64.
#include <string>

namespace accel {

struct CpuFeatures {
  std::string vendor;
  std::string brand;
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false, avx_vnni = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;

  // Lists the supported extensions, e.g. "sse4.2 avx avx2 fma ...".
  std::string IsaString() const;
};

const CpuFeatures& GetCpuFeatures();

}  // namespace accel
