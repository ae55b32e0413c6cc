#pragma once
// Wall-clock time as stored and sent: ISO-8601 / RFC 3339 in UTC, second precision.
#include <string>

namespace accel {

// "2026-12-04T20:31:07Z"
std::string NowIsoUtc();

}  // namespace accel
