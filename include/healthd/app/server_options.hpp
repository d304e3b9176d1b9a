#pragma once
// What the app decides for the HTTP server: its options from the config, and the process-wide descriptor limit that
// caps its connections. The api takes `api::server_options`; it never reads the config or changes the process.

#include "healthd/api/server.hpp"
#include "healthd/config/config.hpp"

#include <cstdint>

namespace healthd::app {

// `server.listen`, `server.max_connections` and the documented limits; `open_file_limit` is left unset. Throws
// config::config_error (path "server.listen") for an address that does not parse; the loader normally rejected it
// already.
[[nodiscard]] api::server_options server_options_from(const config::server_config& server);

// Raises the process's soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force. Process-wide: call
// it once, at start, before threads that open descriptors run.
std::uint64_t raise_open_file_limit();

}  // namespace healthd::app
