#pragma once
// `accel serve --config FILE`: JSON, or TOML when the name ends in .toml, read into one JSON text
// so both spellings go through the same checks (router.h ParseRouteConfig).
#include <string>

#include "core/status.h"

namespace accel::serve {

// The file as JSON text; a TOML syntax error is one line naming the file, line and column.
Result<std::string> ServeConfigAsJson(const std::string& path);

}  // namespace accel::serve
