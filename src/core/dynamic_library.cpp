#include "core/dynamic_library.h"

#include <dlfcn.h>
#include <link.h>

namespace accel {

Result<std::shared_ptr<DynamicLibrary>> DynamicLibrary::OpenFirst(const std::vector<std::string>& names) {
  std::string tried;
  std::string last_error = "no library names given";
  for (const std::string& name : names) {
    // RTLD_LOCAL keeps a vendor library's symbols from leaking into later dlopens.
    void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) return std::shared_ptr<DynamicLibrary>(new DynamicLibrary(handle, name));
    const char* err = dlerror();
    last_error = err ? err : "unknown dlopen error";
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return NotFound("cannot load " + tried + " (" + last_error + ")");
}

std::set<std::string> LoadedObjects() {
  std::set<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name && *info->dlpi_name) static_cast<std::set<std::string>*>(out)->insert(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

void PinNewlyLoaded(const std::set<std::string>& before) {
  for (const std::string& name : LoadedObjects())
    if (!before.count(name)) dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

DynamicLibrary::~DynamicLibrary() {
  if (handle_) dlclose(handle_);
}

void* DynamicLibrary::RawSymbol(const char* symbol) const { return dlsym(handle_, symbol); }

}  // namespace accel
