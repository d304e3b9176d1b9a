#pragma once
// Private to the config component: `${VAR}` substitution over the parsed JSON tree, before any section is read.

#include "healthd/config/loader.hpp"
#include "healthd/core/secrets.hpp"

#include "reader.hpp"

#include <string>
#include <string_view>

namespace healthd::config::detail {

// Letters, digits and _, not starting with a digit.
[[nodiscard]] bool is_env_name(std::string_view name);

// Replaces `${NAME}` and `${NAME:-default}` in every string value (not in keys) and turns `$${` into `${`. A value
// taken from a variable whose name names a secret (secret_rules.hpp: PASS, SECRET, TOKEN, KEY, CREDENTIAL) is added
// to `secrets`; others (hosts, ports, paths) stay visible, unless a structural rule finds them later. An unset variable
// without a default is a config_error at the string's path.
void substitute_env(json& value, const std::string& path, const env_lookup& env, secret_set& secrets);

}  // namespace healthd::config::detail
