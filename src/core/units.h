#pragma once
// Sizes as people read them in messages and reports.
#include <cstdint>
#include <string>

namespace accel {

// "512 B", "1.5 KiB", "3.2 GiB"; "unknown" for a negative size.
std::string FormatBytes(int64_t bytes);

}  // namespace accel
