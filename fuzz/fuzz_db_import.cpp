// libFuzzer target: the `accel db import` parser must turn any input into a record list or
// a clear error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "db/records_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto runs = accel::db::ParseExportDocument(text, "fuzz.json");
  if (runs.ok()) {
    // What parsed must serialise again.
    (void)accel::db::ExportDocument(*runs).dump();
  }
  return 0;
}
