#include "backends/cuda/cublas_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace accel::cuda {

namespace {

template <typename F>
bool Resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

Result<Cublas> Load() {
  // The toolkit this was built with first, then whatever the loader path offers.
  const std::string candidates[] = {
#ifdef ACCEL_CUDA_LIB_DIR
      std::string(ACCEL_CUDA_LIB_DIR) + "/libcublas.so",
#endif
      "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  std::string tried;
  for (const std::string& name : candidates) {
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      tried += (tried.empty() ? "" : ", ") + name;
      continue;
    }
    Cublas c;
    c.library = name;
    if (Resolve(lib, "cublasCreate_v2", c.Create) && Resolve(lib, "cublasDestroy_v2", c.Destroy) &&
        Resolve(lib, "cublasSetStream_v2", c.SetStream) && Resolve(lib, "cublasSetMathMode", c.SetMathMode) &&
        Resolve(lib, "cublasGemmEx", c.GemmEx) && Resolve(lib, "cublasGemmStridedBatchedEx", c.GemmStridedBatchedEx)) {
      return c;
    }
    return Unsupported(name + " lacks a cuBLAS entry point this backend needs");
  }
  return Unsupported("cuBLAS not found (tried " + tried + ")");
}

}  // namespace

Result<const Cublas*> LoadCublas() {
  static std::once_flag once;
  static Result<Cublas> loaded = Unsupported("cuBLAS not loaded");
  std::call_once(once, [] { loaded = Load(); });
  if (!loaded.ok()) return loaded.status();
  return &loaded.value();
}

}  // namespace accel::cuda
