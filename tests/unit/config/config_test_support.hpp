#pragma once
// Helpers shared by the config unit tests: a fake environment and "the error this text produces".

#include "healthd/config/loader.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace healthd::config::testing {

inline std::optional<std::string> no_env(const std::string& /*name*/) { return std::nullopt; }

inline env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// what() of the config_error parsing `text` throws, or "<no error>".
inline std::string error_of(std::string_view text, const env_lookup& env = no_env) {
  try {
    (void)parse_config(text, env);
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no error>";
}

inline std::string source_path(std::string_view relative) {
  return std::string(HEALTHD_SOURCE_DIR) + "/" + std::string(relative);
}

}  // namespace healthd::config::testing
