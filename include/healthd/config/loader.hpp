#pragma once
// Reads and strictly validates the JSON config. Every error names the JSON path and what was expected, e.g.
// `subsystems.redis.breaker: unknown breaker "rediss" (known: database, redis)`. Error texts never contain a secret.

#include "healthd/config/config.hpp"
#include "healthd/config/config_error.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace healthd::config {

// Looks up an environment variable; nullopt when unset. Injected so tests need not touch the process environment.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

[[nodiscard]] std::optional<std::string> process_env(const std::string& name);

// JSON with // and /* */ comments; `${VAR}` in any string is replaced by the variable's value (`$${` writes a
// literal `${`). Throws config_error.
[[nodiscard]] daemon_config parse_config(std::string_view text, const env_lookup& env = process_env);

// As parse_config; a file that cannot be read is a config_error naming the file.
[[nodiscard]] daemon_config load_config_file(const std::filesystem::path& file, const env_lookup& env = process_env);

}  // namespace healthd::config
