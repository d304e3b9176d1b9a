#include "healthd/config/schema.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace healthd::config::schema {

namespace {

using namespace std::string_view_literals;

constexpr std::array root_keys{"server"sv,   "loops"sv,      "healing"sv,    "healing_log"sv,
                               "breakers"sv, "subsystems"sv, "maintenance"sv};
constexpr std::array server_keys{"listen"sv,     "threads"sv,      "admin_token_env"sv, "admin_token_file"sv,
                                 "static_dir"sv, "cors_origins"sv, "max_connections"sv};
constexpr std::array healing_keys{"mode"sv, "max_concurrent"sv};
constexpr std::array healing_log_keys{"capacity"sv, "audit_file"sv, "audit_max_bytes"sv};
constexpr std::array breaker_keys{"mode"sv,
                                  "failure_threshold"sv,
                                  "recovery_timeout_s"sv,
                                  "max_recovery_timeout_s"sv,
                                  "jitter"sv,
                                  "window_size"sv,
                                  "minimum_calls"sv,
                                  "failure_rate_threshold"sv,
                                  "slow_call_ms"sv,
                                  "slow_call_rate_threshold"sv};
constexpr std::array subsystem_keys{"description"sv,      "loop"sv,  "critical"sv, "breaker"sv, "depends_on"sv,
                                    "retry_interval_s"sv, "probe"sv, "heal"sv};

constexpr std::array probe_keys{"type"sv, "timeout_ms"sv, "degraded_latency_ms"sv};
constexpr std::array postgres_probe_keys{"conninfo"sv, "query"sv, "max_connections_pct"sv};
constexpr std::array redis_probe_keys{"host"sv, "port"sv, "password_env"sv, "db"sv, "max_memory_pct"sv};
constexpr std::array http_probe_keys{"url"sv,
                                     "method"sv,
                                     "headers"sv,
                                     "body"sv,
                                     "expect_status"sv,
                                     "expect_body_contains"sv,
                                     "json_rule"sv,
                                     "ca_file"sv,
                                     "insecure_skip_verify"sv,
                                     "cert_expiry_warn_days"sv,
                                     "max_body_bytes"sv};
constexpr std::array json_rule_keys{"pointer"sv, "values"sv, "otherwise"sv};
constexpr std::array websocket_probe_keys{"url"sv,     "send"sv,    "expect"sv,
                                          "headers"sv, "ca_file"sv, "insecure_skip_verify"sv};
constexpr std::array tcp_probe_keys{"host"sv, "port"sv};
constexpr std::array exec_keys{"argv"sv, "env"sv};
constexpr std::array file_probe_keys{"path"sv, "max_age_s"sv, "min_size_bytes"sv};

constexpr std::array heal_keys{"actions"sv, "max_per_hour"sv, "cooldown_s"sv, "after_failures"sv};
constexpr std::array action_keys{"type"sv, "name"sv, "timeout_ms"sv};
constexpr std::array<std::string_view, 0> reconnect_action_keys{};
constexpr std::array http_action_keys{
    "url"sv, "method"sv, "headers"sv, "body"sv, "expect_status"sv, "ca_file"sv, "insecure_skip_verify"sv};
constexpr std::array sql_action_keys{"statement"sv, "conninfo"sv};
constexpr std::array redis_action_keys{"argv"sv, "target"sv};
constexpr std::array redis_target_keys{"host"sv, "port"sv, "password_env"sv, "db"sv};
constexpr std::array maintenance_keys{"name"sv, "subsystem"sv, "action"sv};

constexpr std::string_view probe_path = "subsystems.<name>.probe";
constexpr std::string_view action_path = "subsystems.<name>.heal.actions[i]";

constexpr std::array all_objects{
    object_schema{"root", "", root_keys},
    object_schema{"server", "server", server_keys},
    object_schema{"healing", "healing", healing_keys},
    object_schema{"healing_log", "healing_log", healing_log_keys},
    object_schema{"breaker", "breakers.<name>", breaker_keys},
    object_schema{"subsystem", "subsystems.<name>", subsystem_keys},
    object_schema{"probe", probe_path, probe_keys},
    object_schema{"probe.postgres", probe_path, postgres_probe_keys},
    object_schema{"probe.redis", probe_path, redis_probe_keys},
    object_schema{"probe.http", probe_path, http_probe_keys},
    object_schema{"json_rule", "subsystems.<name>.probe.json_rule", json_rule_keys},
    object_schema{"probe.websocket", probe_path, websocket_probe_keys},
    object_schema{"probe.tcp", probe_path, tcp_probe_keys},
    object_schema{"probe.exec", probe_path, exec_keys},
    object_schema{"probe.file", probe_path, file_probe_keys},
    object_schema{"heal", "subsystems.<name>.heal", heal_keys},
    object_schema{"action", action_path, action_keys},
    object_schema{"action.reconnect", action_path, reconnect_action_keys},
    object_schema{"action.exec", action_path, exec_keys},
    object_schema{"action.http", action_path, http_action_keys},
    object_schema{"action.sql", action_path, sql_action_keys},
    object_schema{"action.redis", action_path, redis_action_keys},
    object_schema{"redis_target", "subsystems.<name>.heal.actions[i].target", redis_target_keys},
    object_schema{"maintenance", "maintenance[i]", maintenance_keys},
};

constexpr std::array probe_type_names{"postgres"sv, "redis"sv, "http"sv, "websocket"sv, "tcp"sv, "exec"sv, "file"sv};
constexpr std::array action_type_names{"reconnect"sv, "exec"sv, "http"sv, "sql"sv, "redis"sv};

}  // namespace

std::span<const object_schema> objects() noexcept { return all_objects; }

const object_schema& object(std::string_view id) {
  for (const auto& o : all_objects)
    if (o.id == id) return o;
  throw std::logic_error("config schema has no object \"" + std::string(id) + "\"");
}

std::span<const std::string_view> probe_types() noexcept { return probe_type_names; }
std::span<const std::string_view> action_types() noexcept { return action_type_names; }

}  // namespace healthd::config::schema
