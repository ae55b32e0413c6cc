#include "core/dtype_names.h"

#include <cctype>

namespace accel {

std::optional<DType> DTypeFromName(std::string_view name) {
  // kIQ4_XS is the last enumerator of DType: a type added after it must move this bound.
  for (int i = 0; i <= static_cast<int>(DType::kIQ4_XS); ++i) {
    const DType t = static_cast<DType>(i);
    const std::string_view known = Name(t);
    if (known.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < known.size() && same; ++k)
      same = std::tolower(static_cast<unsigned char>(name[k])) == known[k];
    if (same) return t;
  }
  return std::nullopt;
}

}  // namespace accel
