#pragma once
// Admin authentication for POST /heal: a bearer token from the environment or a file, read once at start and
// compared in constant time. The token is never logged and never part of an error text. Pure functions; the
// `admin_token` value is immutable after loading and safe to share between threads.

#include "healthd/config/config.hpp"

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace healthd::api {

enum class admin_auth {
  granted,
  missing,   // no usable `Authorization: Bearer` header: 401 with WWW-Authenticate
  wrong,     // a bearer token that does not match: 403
  disabled,  // no admin token configured: 403 "admin endpoint disabled"
};

// Thrown at start when `server.admin_token_file` is set but cannot be read. The message names the file, never
// its contents.
class admin_token_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

using token_env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// `server.admin_token_file` when set (trailing CR/LF trimmed), else the variable named by `server.admin_token_env`.
// nullopt (endpoint disabled) when neither yields a non-empty token. Throws admin_token_error for an unreadable file.
[[nodiscard]] std::optional<std::string> load_admin_token(const config::server_config& server,
                                                          const token_env_lookup& env);

// Decides on the `Authorization` header value (nullopt when absent). The scheme is case-insensitive.
[[nodiscard]] admin_auth check_admin(std::optional<std::string_view> authorization,
                                     const std::optional<std::string>& token);

// Equal contents, in time that depends only on the length of `presented`, never on where they differ or on the
// length of `expected`.
[[nodiscard]] bool constant_time_equal(std::string_view expected, std::string_view presented) noexcept;

}  // namespace healthd::api
