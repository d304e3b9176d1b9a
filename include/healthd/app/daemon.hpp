#pragma once
// The daemon's lifecycle: load config, wire the components, serve HTTP, run until SIGTERM/SIGINT, then shut down
// gracefully. main.cpp only parses flags.

#include "healthd/config/config.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace healthd::app {

// Exit codes the daemon and `--check` use.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;       // runtime error after start (e.g. the listen address is taken)
inline constexpr int exit_config_error = 2;  // invalid config or command line

struct daemon_options {
  std::filesystem::path config_file;
  std::optional<std::string> listen_override;  // --listen
};

// Loads the config and applies command-line overrides. Throws config::config_error.
[[nodiscard]] config::daemon_config load_effective_config(const daemon_options& options);

// What `--check` prints: the subsystems, loops and breakers the daemon would run. Never contains a secret.
[[nodiscard]] std::string describe_config(const config::daemon_config& config);

// Runs until SIGTERM or SIGINT; returns the process exit code. Tells systemd READY=1 once listening, WATCHDOG=1 at
// half of WATCHDOG_USEC when set, and STOPPING=1 on the way out (all no-ops outside systemd).
[[nodiscard]] int run_daemon(const daemon_options& options);

}  // namespace healthd::app
