#pragma once
// Private to the config component: which values of the config are secrets (docs/configuration.md, "Secrets"). The
// loader adds what these find to daemon_config::secrets, which redacts every occurrence of each in every message,
// detail, log line and error. Since that redaction replaces substrings everywhere, a value that may well be innocent
// (a header, a query value, an exec environment value) is added only when its name says it is a credential or it is
// long enough not to blank ordinary words and numbers elsewhere.

#include "healthd/core/secrets.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace healthd::config::detail {

// A header, query or exec environment value whose name does not name a credential is a secret from this length on:
// shorter ones ("1", "json", "C") would blank unrelated text in every message.
inline constexpr std::size_t min_incidental_secret_length = 8;

// The name contains PASS, SECRET, TOKEN, KEY or CREDENTIAL, in any case: `${VAR}` names, exec `env` names, URL query
// keys.
[[nodiscard]] bool names_a_secret(std::string_view name);

// The userinfo of an http(s):// or ws(s):// URL (always: "user:password" and the password, or a lone user, which is
// then the credential) and its query values (by name or length, as above), raw and percent-decoded.
void add_url_secrets(std::string_view url, secret_set& secrets);

// Header values: always for Authorization, Proxy-Authorization, Cookie and names that name a secret (X-Api-Key),
// with the credential after an auth scheme ("Bearer x": also "x"); else by length, except the content-negotiation
// headers (Accept*, Content-Type, User-Agent, ...), which never carry one.
void add_header_secrets(const std::map<std::string, std::string>& headers, secret_set& secrets);

// Exec `env` values: by name or length, as above.
void add_env_secrets(const std::map<std::string, std::string>& env, secret_set& secrets);

}  // namespace healthd::config::detail
