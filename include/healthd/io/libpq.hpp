#pragma once
// What the postgres probe and the sql heal action share about libpq. Pure.

#include <string>
#include <string_view>

namespace healthd::io {

// Adds connect_timeout = max(2, ceil(timeout_ms / 1000) + 1) to a key=value or URI conninfo that has none (libpq
// waits forever without it, and its whole-second clock can end the attempt up to 1 s early).
[[nodiscard]] std::string with_connect_timeout(std::string conninfo, int timeout_ms);

// A libpq error's first line, with "connection to server at ... failed: " removed.
[[nodiscard]] std::string short_libpq_error(std::string_view what);

}  // namespace healthd::io
