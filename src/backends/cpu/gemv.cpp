#include "backends/cpu/gemv.h"

#include <algorithm>
#include <string_view>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::cpu {

GemvPanelsFn FindGemvKernel(const PackedGemmWeight& w) {
  const CpuFeatures& f = GetCpuFeatures();
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl) return w.kernel->widen ? GemvAvx512HalfW(w) : GemvAvx512(w);
  return nullptr;
}

bool GemvPacked(const float* x, int64_t m, int64_t ldx, const PackedGemmWeight& w, float* y, int64_t ldy,
                const float* bias, Activation act, ThreadPool& pool) {
  if (m <= 0 || m > kGemvMaxRows) return false;
  const GemvPanelsFn kernel = FindGemvKernel(w);
  if (!kernel) return false;
  const int64_t panels = w.num_panels(), nr = w.kernel->nr;
  // Two runs of panels per thread: contiguous enough for the prefetchers, and a thread that
  // the OS preempted leaves only half its share for the others to wait on.
  const int64_t runs = std::min<int64_t>(panels, 2 * pool.num_threads());
  const int64_t per = (panels + runs - 1) / runs;
  pool.Run(runs, [&](int64_t t) {
    const int64_t p0 = t * per, p1 = std::min(panels, p0 + per);
    if (p0 >= p1) return;
    kernel(x, m, ldx, w, p0, p1, y, ldy);
    if (bias || act != Activation::kNone) {
      const int64_t c0 = p0 * nr, c1 = std::min(w.n, p1 * nr);
      w.kernel->epilogue(y + c0, ldy, m, c1 - c0, bias ? bias + c0 : nullptr, act);
    }
  });
  return true;
}

}  // namespace accel::cpu
