#pragma once
// `accel serve --config FILE`: JSON, or TOML when the name ends in .toml, read into one JSON text
// so both spellings go through the same checks (router.h ParseRouteConfig).
#include <set>
#include <string>

#include "core/status.h"
#include "serve/server.h"

namespace accel::serve {

// The file as JSON text; a TOML syntax error is one line naming the file, line and column.
Result<std::string> ServeConfigAsJson(const std::string& path);

// The server settings of a config file (every key optional): host, port, models, api_keys,
// device, memory_limit, max_queue, parallel, slot_context, max_tokens, max_body, key_rate_limit, max_embed_batch,
// http_threads, read_timeout, cors_origin, and "routes" (read by Server::Create). A setting in
// `given` (set on the command line) keeps its value; models and api_keys add to the command
// line's. Unknown keys, wrong types and out-of-range values are errors naming the key.
Status ApplyServeConfig(const std::string& json_text, const std::string& file_name, const std::set<std::string>& given,
                        ServeOptions* options);

}  // namespace accel::serve
