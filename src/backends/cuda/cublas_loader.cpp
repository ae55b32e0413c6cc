#include "backends/cuda/cublas_loader.h"

#include <mutex>
#include <vector>

namespace accel::cuda {

namespace {

Result<Cublas> Load() {
  // The toolkit this was built with first, then whatever the loader path offers.
  const std::vector<std::string> candidates = {
#ifdef ACCEL_CUDA_LIB_DIR
      std::string(ACCEL_CUDA_LIB_DIR) + "/libcublas.so",
#endif
      "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  auto lib = DynamicLibrary::OpenFirst(candidates);
  if (!lib.ok()) return Unsupported("cuBLAS not found: " + lib.status().message());
  Cublas c;
  c.library = *lib;
  ACCEL_ASSIGN_OR_RETURN(c.Create, c.library->Symbol<decltype(c.Create)>("cublasCreate_v2"));
  ACCEL_ASSIGN_OR_RETURN(c.Destroy, c.library->Symbol<decltype(c.Destroy)>("cublasDestroy_v2"));
  ACCEL_ASSIGN_OR_RETURN(c.SetStream, c.library->Symbol<decltype(c.SetStream)>("cublasSetStream_v2"));
  ACCEL_ASSIGN_OR_RETURN(c.SetMathMode, c.library->Symbol<decltype(c.SetMathMode)>("cublasSetMathMode"));
  ACCEL_ASSIGN_OR_RETURN(c.GemmEx, c.library->Symbol<decltype(c.GemmEx)>("cublasGemmEx"));
  return c;
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
