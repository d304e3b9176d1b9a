#pragma once
// Private to the config component: what the section readers (one file per top-level section, *_section.cpp) share.
// Each section reader checks its part of the JSON tree and fills its part of daemon_config; loader.cpp runs them in
// the order of its section table. Every failure is a config_error (reader.hpp).

#include "healthd/config/config.hpp"
#include "healthd/config/loader.hpp"

#include "reader.hpp"
#include "secret_rules.hpp"

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace healthd::config::detail {

// Ranges shared by many keys; docs/configuration.md states the same bounds.
inline constexpr double max_interval_s = 86400;
inline constexpr number_range interval_range{0, max_interval_s, true, false};   // loops, retries, recovery timeouts
inline constexpr number_range cooldown_range{0, max_interval_s, false, false};  // 0 means "no cooldown"
inline constexpr number_range max_age_range{0, 366.0 * max_interval_s, true, false};
inline constexpr number_range percent_range{0, 100, true, false};
inline constexpr number_range jitter_range{0, 1, false, true};
inline constexpr number_range slow_call_range{0, 600000, true, false};
inline constexpr int max_timeout_ms = 600000;
inline constexpr int max_port = 65535;
inline constexpr std::size_t max_name_length = 64;

// What the readers share: the environment, the secrets found so far and the names that references may name.
struct context {
  const env_lookup& env;
  secret_set secrets;
  std::vector<std::string> loops;
  std::vector<std::string> breakers;
  std::vector<std::string> subsystems;
};

// The signature of every top-level section's reader: `value` is the section, `path` its JSON path.
using section_reader = void (*)(const json& value, const std::string& path, context& ctx, daemon_config& cfg);

void read_server(const json& value, const std::string& path, context& ctx, daemon_config& cfg);       // server
void read_loops(const json& value, const std::string& path, context& ctx, daemon_config& cfg);        // loops
void read_healing(const json& value, const std::string& path, context& ctx, daemon_config& cfg);      // loops
void read_healing_log(const json& value, const std::string& path, context& ctx, daemon_config& cfg);  // loops
void read_breakers(const json& value, const std::string& path, context& ctx, daemon_config& cfg);     // breakers
void read_subsystems(const json& value, const std::string& path, context& ctx, daemon_config& cfg);   // subsystems
void read_maintenance(const json& value, const std::string& path, context& ctx, daemon_config& cfg);  // subsystems

// ---- probes and actions (probes_section.cpp, actions_section.cpp) ----------------------------------------------

[[nodiscard]] probe_config read_probe(const json& value, const std::string& path, context& ctx);
// `probe` is the probe of the subsystem the action belongs to, whose connection sql and redis actions default to.
[[nodiscard]] action_config read_action(const json& value, const std::string& path, const probe_config& probe,
                                        std::string_view subsystem, context& ctx);
[[nodiscard]] heal_config read_heal(const json& value, const std::string& path, const probe_config& probe,
                                    std::string_view subsystem, context& ctx);

// What probes and actions of the same protocol share (probes_section.cpp).
// The `type` of a probe or action, checked against the registry keys before the object's other keys.
[[nodiscard]] std::string read_type(const json& value, const std::string& path, std::span<const std::string_view> known,
                                    std::string_view what, const context& ctx);
// host, port, password_env and db: the redis probe and a redis action's `target`.
[[nodiscard]] redis_probe read_redis_endpoint(object_reader& r, context& ctx);
[[nodiscard]] std::vector<status_range> read_expect_status(const json& value, const std::string& path);
void read_tls(object_reader& r, std::optional<std::string>& ca_file, bool& insecure_skip_verify);
void read_headers(object_reader& r, std::map<std::string, std::string>& headers, context& ctx);
void add_conninfo_password(std::string_view conninfo, context& ctx);

// ---- small validators (checks.cpp) -----------------------------------------------------------------------------

// A string value in a message: quoted, its secrets redacted.
[[nodiscard]] std::string quoted(std::string_view value, const context& ctx);
// "known: a, b" or "none are defined", for unknown-reference errors.
[[nodiscard]] std::string known_list(const std::vector<std::string>& names);
[[nodiscard]] bool contains(const std::vector<std::string>& names, std::string_view name);

// Names of loops, breakers, subsystems, actions and maintenance tasks appear in JSON paths, URLs and metric labels.
void check_name(std::string_view name, const std::string& path, std::string_view what);
void check_env_name(std::string_view name, const std::string& path);
void check_non_empty(std::string_view value, const std::string& path, std::string_view expected);
// scheme://host[:port][/...] with one of `schemes`; the URL itself is never echoed since it may carry a token.
void check_url(std::string_view url, const std::string& path, std::initializer_list<std::string_view> schemes,
               std::string_view example);
void check_method(std::string_view method, const std::string& path);
void check_headers(const std::map<std::string, std::string>& headers, const std::string& path);
void check_env_map(const std::map<std::string, std::string>& env, const std::string& path);
void check_argv(const std::vector<std::string>& argv, const std::string& path);
[[nodiscard]] probe_status read_probe_status(const json& value, const std::string& path);

// A required string key that must not be empty.
[[nodiscard]] std::string required_string(object_reader& r, std::string_view key, std::string_view expected);
// An optional string key that, when given, must not be empty.
void read_optional_non_empty(object_reader& r, std::string_view key, std::optional<std::string>& out,
                             std::string_view expected);

// The request an http probe and an http heal action both send: url (its secrets noted), method, headers, body,
// expect_status and the TLS keys. `example` is the URL shown when the given one is not usable.
template <typename HttpRequest>
void read_http_request(object_reader& r, context& ctx, HttpRequest& out, std::string_view example) {
  out.url = required_string(r, "url", "an http:// or https:// URL");
  check_url(out.url, r.path_of("url"), {"http", "https"}, example);
  add_url_secrets(out.url, ctx.secrets);
  r.read("method", out.method);
  check_method(out.method, r.path_of("method"));
  read_headers(r, out.headers, ctx);
  r.read("body", out.body);
  if (const auto* status = r.find("expect_status"))
    out.expect_status = read_expect_status(*status, r.path_of("expect_status"));
  read_tls(r, out.ca_file, out.insecure_skip_verify);
}

// argv and env of an exec probe or action.
template <typename Exec>
[[nodiscard]] Exec read_exec(object_reader& r, context& ctx) {
  Exec e;
  e.argv = as_string_array(r.require("argv", "a non-empty array of strings"), r.path_of("argv"));
  check_argv(e.argv, r.path_of("argv"));
  r.read("env", e.env);
  check_env_map(e.env, r.path_of("env"));
  add_env_secrets(e.env, ctx.secrets);
  return e;
}

}  // namespace healthd::config::detail
