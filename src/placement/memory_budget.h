#pragma once
// How much memory the engine may use: --memory-limit, else ACCEL_MEMORY_LIMIT, else 90% of
// what the OS says is available; and whether to run in low-memory mode.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "hw/memory_info.h"

namespace accel {

// "8G", "512MiB", "1.5GB", "1073741824" -> bytes (binary units: K/M/G/T = 1024^n).
Result<int64_t> ParseByteSize(std::string_view text);

// `cli_value` wins when non-empty, then the ACCEL_MEMORY_LIMIT variable, then 90% of available.
Result<int64_t> ResolveMemoryLimit(const std::string& cli_value, const hw::MemoryInfo& memory);

// Low-memory mode (mmapped weights without copies, smaller arenas) turns on by itself when less
// than 2 GiB or less than 10% of memory is available.
bool ShouldUseLowMemoryMode(const hw::MemoryInfo& memory);

}  // namespace accel
