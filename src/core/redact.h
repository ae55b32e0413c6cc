#pragma once
// One redaction for every message that can carry a URL, a connection string, a header or a
// server body: secrets are masked, control bytes escaped, lines capped. Plain scanning, no regex.
#include <cstddef>
#include <string>
#include <string_view>

namespace accel {

// Masks as "***": URL passwords (scheme://user:PASS@host), the values of secret-named
// parameters in query strings, libpq conninfo, headers and JSON (password, api_key, x-api-key,
// authorization, token, secret, ...), and bearer tokens.
std::string RedactSecrets(std::string_view text);

// Escapes bytes a terminal would act on (ESC, BEL, CR, DEL, other C0 controls except \n and \t)
// as \xNN, so text from files and servers cannot move the cursor or retitle the window.
std::string EscapeControlBytes(std::string_view text);

// Cuts `text` to `max_bytes` (on a UTF-8 boundary), noting how long it was.
std::string CapLength(std::string_view text, size_t max_bytes = 4096);

// RedactSecrets, then EscapeControlBytes, then CapLength: what the CLI prints for an error.
std::string RedactForDisplay(std::string_view text, size_t max_bytes = 4096);

}  // namespace accel
