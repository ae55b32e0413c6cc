#pragma once
// A shared library opened with dlopen at run time, so detecting or using a vendor runtime
// (CUDA, cuBLAS, ROCm, OpenCL, Vulkan, OpenVINO) never needs it at build time. Missing symbols
// are errors that name the library and the symbol, not crashes.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel {

// Shared objects mapped into this process now (their paths).
std::set<std::string> LoadedObjects();
// Keeps every object mapped since `before` for the life of the process. Driver runtimes
// (Vulkan ICDs, PoCL) hold one-time global state they never free; unloading them turns it into
// unreachable memory that LeakSanitizer reports, and some misbehave when loaded a second time.
void PinNewlyLoaded(const std::set<std::string>& before);

class DynamicLibrary {
 public:
  // Tries each name in order; the error lists every name and dlerror()'s reason for the last.
  static Result<std::shared_ptr<DynamicLibrary>> OpenFirst(const std::vector<std::string>& names);
  ~DynamicLibrary();
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;

  const std::string& name() const { return name_; }
  void* RawSymbol(const char* symbol) const;

  // The symbol cast to function type F, or an error naming library and symbol.
  template <typename F>
  Result<F> Symbol(const char* symbol) const {
    void* p = RawSymbol(symbol);
    if (!p) return NotFound(name_ + ": symbol " + symbol + " missing");
    return reinterpret_cast<F>(p);
  }

 private:
  DynamicLibrary(void* handle, std::string name) : handle_(handle), name_(std::move(name)) {}
  void* handle_;
  std::string name_;
};

}  // namespace accel
