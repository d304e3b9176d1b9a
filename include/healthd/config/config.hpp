#pragma once
// The daemon's configuration: every key a user can write, with its default, in one place. docs/configuration.md
// documents each field here; the loader (src/config/loader.cpp and its section readers, src/config/*_section.cpp)
// is the only code that reads the JSON, and healthd/config/schema.hpp lists the keys it accepts.
//
// A `daemon_config` is an immutable value after loading; share it as `std::shared_ptr<const daemon_config>`.
// Every struct but daemon_config compares with == so that a reload can tell what changed.

#include "healthd/core/secrets.hpp"
#include "healthd/core/status.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace healthd::config {

// ---- server --------------------------------------------------------------------------------------------------
// `server.listen`: "host:port", "[v6-address]:port"; the port is 1..65535.
struct listen_address {
  std::string host;  // without brackets: "::1"
  std::uint16_t port = 0;

  friend bool operator==(const listen_address&, const listen_address&) = default;
};

// nullopt when `text` is not a valid `server.listen` value (also used for the --listen flag).
[[nodiscard]] std::optional<listen_address> parse_listen_address(std::string_view text);

struct server_config {
  std::string listen = "127.0.0.1:8080";  // host:port; "[::1]:8080" for IPv6
  int threads = 2;
  std::optional<std::string> admin_token_env = "HEALTHD_ADMIN_TOKEN";
  std::optional<std::string> admin_token_file;
  std::string static_dir = "frontend/out";
  std::vector<std::string> cors_origins;
  int max_connections = 10000;

  friend bool operator==(const server_config&, const server_config&) = default;
};

// ---- loops ---------------------------------------------------------------------------------------------------
struct loop_config {
  std::string name;
  double interval_s = 0;

  friend bool operator==(const loop_config&, const loop_config&) = default;
};
// core 30 s, integrations 60 s, pipelines 120 s, optimization 3600 s, in that order.
[[nodiscard]] std::vector<loop_config> default_loops();

// ---- healing -------------------------------------------------------------------------------------------------
enum class healing_mode { automatic, dry_run, off };  // wire names: auto, dry_run, off

struct healing_config {
  healing_mode mode = healing_mode::automatic;
  int max_concurrent = 2;

  friend bool operator==(const healing_config&, const healing_config&) = default;
};

struct healing_log_config {
  int capacity = 200;
  std::optional<std::string> audit_file;
  std::int64_t audit_max_bytes = 64LL * 1024 * 1024;

  friend bool operator==(const healing_log_config&, const healing_log_config&) = default;
};

// ---- breakers ------------------------------------------------------------------------------------------------
enum class breaker_mode { consecutive, rate };

struct breaker_config {
  std::string name;
  breaker_mode mode = breaker_mode::consecutive;
  int failure_threshold = 5;  // consecutive mode
  double recovery_timeout_s = 60;
  double max_recovery_timeout_s = 900;
  double jitter = 0.1;                    // fraction, 0 <= jitter < 1
  int window_size = 20;                   // rate mode: the last N calls
  int minimum_calls = 10;                 // rate mode: no decision before this many calls in the window
  double failure_rate_threshold = 50;     // rate mode, percent
  std::optional<double> slow_call_ms;     // rate mode: a successful call at least this slow counts as slow
  double slow_call_rate_threshold = 100;  // rate mode, percent

  friend bool operator==(const breaker_config&, const breaker_config&) = default;
};

// ---- probes --------------------------------------------------------------------------------------------------
// expect_status: a code, a list of codes, or a range string "200-299". Stored as closed ranges.
struct status_range {
  int low = 200;
  int high = 299;

  friend bool operator==(const status_range&, const status_range&) = default;
};

struct json_rule {
  std::string pointer;                         // RFC 6901 JSON pointer
  std::map<std::string, probe_status> values;  // value found (as text) -> status
  probe_status otherwise = probe_status::critical;

  friend bool operator==(const json_rule&, const json_rule&) = default;
};

struct postgres_probe {
  std::string conninfo;
  std::string query = "SELECT 1";
  double max_connections_pct = 90;

  friend bool operator==(const postgres_probe&, const postgres_probe&) = default;
};

struct redis_probe {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::optional<std::string> password_env;
  int db = 0;
  double max_memory_pct = 90;

  friend bool operator==(const redis_probe&, const redis_probe&) = default;
};

struct http_probe {
  std::string url;
  std::string method = "GET";
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  std::vector<status_range> expect_status{{200, 299}};
  std::optional<std::string> expect_body_contains;
  std::optional<json_rule> rule;  // key: json_rule
  std::optional<std::string> ca_file;
  bool insecure_skip_verify = false;
  int cert_expiry_warn_days = 14;
  std::int64_t max_body_bytes = std::int64_t{1024} * 1024;

  friend bool operator==(const http_probe&, const http_probe&) = default;
};

struct websocket_probe {
  std::string url;
  std::optional<std::string> send;
  std::optional<std::string> expect;
  std::map<std::string, std::string> headers;
  std::optional<std::string> ca_file;
  bool insecure_skip_verify = false;

  friend bool operator==(const websocket_probe&, const websocket_probe&) = default;
};

struct tcp_probe {
  std::string host;
  int port = 0;

  friend bool operator==(const tcp_probe&, const tcp_probe&) = default;
};

struct exec_probe {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;

  friend bool operator==(const exec_probe&, const exec_probe&) = default;
};

struct file_probe {
  std::string path;
  std::optional<double> max_age_s;
  std::int64_t min_size_bytes = 0;

  friend bool operator==(const file_probe&, const file_probe&) = default;
};

using probe_options =
    std::variant<postgres_probe, redis_probe, http_probe, websocket_probe, tcp_probe, exec_probe, file_probe>;

struct probe_config {
  std::string type;                // the registry key: postgres, redis, http, websocket, tcp, exec, file
  int timeout_ms = 2000;           // exec: 10000
  int degraded_latency_ms = 1000;  // default: half of timeout_ms
  probe_options options;

  friend bool operator==(const probe_config&, const probe_config&) = default;
};

// ---- heal actions --------------------------------------------------------------------------------------------
struct reconnect_action {
  friend bool operator==(const reconnect_action&, const reconnect_action&) = default;
};

struct exec_action {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;

  friend bool operator==(const exec_action&, const exec_action&) = default;
};

struct http_action {
  std::string url;
  std::string method = "POST";
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  std::vector<status_range> expect_status{{200, 299}};
  std::optional<std::string> ca_file;
  bool insecure_skip_verify = false;

  friend bool operator==(const http_action&, const http_action&) = default;
};

struct sql_action {
  std::string statement;
  std::optional<std::string> conninfo;  // default: the subsystem's postgres probe conninfo

  friend bool operator==(const sql_action&, const sql_action&) = default;
};

struct redis_action {
  std::vector<std::string> argv;      // e.g. ["MEMORY", "PURGE"]
  std::optional<redis_probe> target;  // default: the subsystem's redis probe; keys host, port, password_env, db

  friend bool operator==(const redis_action&, const redis_action&) = default;
};

using action_options = std::variant<reconnect_action, exec_action, http_action, sql_action, redis_action>;

struct action_config {
  std::string type;                 // reconnect, exec, http, sql, redis
  std::optional<std::string> name;  // the log's `action` reads "<type>:<name>"
  int timeout_ms = 10000;
  action_options options;

  // "exec:restart-redis" with a name, else the bare type ("reconnect").
  [[nodiscard]] std::string label() const { return name ? type + ":" + *name : type; }

  friend bool operator==(const action_config&, const action_config&) = default;
};

struct heal_config {
  std::vector<action_config> actions;
  int max_per_hour = 6;
  double cooldown_s = 30;
  int after_failures = 3;  // subsystems without a breaker

  friend bool operator==(const heal_config&, const heal_config&) = default;
};

// ---- subsystems ----------------------------------------------------------------------------------------------
struct subsystem_config {
  std::string name;
  std::string description;
  std::string loop = "core";
  bool critical = false;
  std::optional<std::string> breaker;
  std::vector<std::string> depends_on;
  double retry_interval_s = 0.5;
  probe_config probe;
  heal_config heal;

  friend bool operator==(const subsystem_config&, const subsystem_config&) = default;
};

struct maintenance_task {
  std::string name;
  std::string subsystem;
  action_config action;

  friend bool operator==(const maintenance_task&, const maintenance_task&) = default;
};

// ---- the whole file ------------------------------------------------------------------------------------------
struct daemon_config {
  server_config server;
  // In file order, then those of the four defaults (core, integrations, pipelines, optimization) the file did not
  // list. A default-constructed config holds the four defaults.
  std::vector<loop_config> loops = default_loops();
  healing_config healing;
  healing_log_config healing_log;
  std::vector<breaker_config> breakers;      // in file order
  std::vector<subsystem_config> subsystems;  // in file order
  std::vector<maintenance_task> maintenance;
  // Redacted from every message, detail and error (docs/configuration.md, "Secrets"): conninfo passwords, header
  // values, URL userinfo and query values, exec `env` values, the values of variables named by `*_env` keys, and
  // `${VAR}` values whose variable name names a secret; structured values of unremarkable names only from 8
  // characters on. Other `${VAR}` values (hosts, ports) are not secrets.
  secret_set secrets;

  [[nodiscard]] const subsystem_config* find_subsystem(std::string_view name) const noexcept;
  [[nodiscard]] const breaker_config* find_breaker(std::string_view name) const noexcept;
  [[nodiscard]] const loop_config* find_loop(std::string_view name) const noexcept;
};

[[nodiscard]] std::string_view to_string(healing_mode m) noexcept;
[[nodiscard]] std::optional<healing_mode> parse_healing_mode(std::string_view text) noexcept;  // "auto", ...
[[nodiscard]] std::string_view to_string(breaker_mode m) noexcept;

}  // namespace healthd::config
