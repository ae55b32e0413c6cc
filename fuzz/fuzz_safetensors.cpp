// Any byte string given to the safetensors parser yields a file or a Status, never a crash or
// an out-of-bounds read; every tensor a successful parse reports must be readable.
#include <cstdint>
#include <cstring>

#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = accel::SafetensorsFile::Parse(data, size, "fuzz", nullptr);
  if (!r.ok()) return 0;
  volatile uint8_t sink = 0;
  for (const auto& [name, e] : (*r)->entries()) {
    auto t = (*r)->Get(name);
    if (!t.ok()) continue;
    const uint8_t* p = static_cast<const uint8_t*>(t->raw());
    for (size_t i = 0; i < t->nbytes(); ++i) sink = sink + p[i];
  }
  return 0;
}
