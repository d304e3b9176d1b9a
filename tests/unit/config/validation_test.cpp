// Every kind of validation error, one ctest test each: the config text and the exact what() it must produce.

#include "healthd/config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace healthd::config {
namespace {

using testing::error_of;

struct invalid_case {
  std::string name;  // the test name suffix
  std::string json;
  std::string error;  // exact what()
};

void PrintTo(const invalid_case& c, std::ostream* os) { *os << c.name; }

// A subsystem "s" with a tcp probe and the given extra members, e.g. R"("loop": "x")".
std::string subsystem(const std::string& extra) {
  return R"({"subsystems": {"s": {"probe": {"type": "tcp", "host": "h", "port": 1})" +
         (extra.empty() ? "" : ", " + extra) + "}}}";
}

// A subsystem "s" with the given probe object.
std::string probe(const std::string& probe_json) { return R"({"subsystems": {"s": {"probe": )" + probe_json + "}}}"; }

// A subsystem "s" with a probe of the given type and the given heal actions.
std::string actions(const std::string& probe_json, const std::string& actions_json) {
  return R"({"subsystems": {"s": {"probe": )" + probe_json + R"(, "heal": {"actions": [)" + actions_json + "]}}}}";
}

constexpr const char* tcp = R"({"type": "tcp", "host": "h", "port": 1})";

// An http probe with the given extra members.
std::string http_with(const std::string& members) { return R"({"type": "http", "url": "http://h/", )" + members + "}"; }

std::string case_name(const ::testing::TestParamInfo<invalid_case>& param) { return param.param.name; }

class config_validation : public ::testing::TestWithParam<invalid_case> {};

TEST_P(config_validation, rejects_with_path_and_expectation) { EXPECT_EQ(error_of(GetParam().json), GetParam().error); }

// ---- top level, server, healing, healing_log, loops ----------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    top_level, config_validation,
    ::testing::Values(
        invalid_case{"unknown_section", R"({"log_healer": {}})",
                     "log_healer: unknown key (allowed: server, loops, healing, healing_log, breakers, subsystems, "
                     "maintenance)"},
        invalid_case{"misspelled_section_suggests", R"({"subsytems": {}})",
                     "subsytems: unknown key (did you mean \"subsystems\"? allowed: server, loops, healing, "
                     "healing_log, breakers, subsystems, maintenance)"},
        invalid_case{"section_of_wrong_type", R"({"server": []})", "server: expected an object, got an array"},
        invalid_case{"server_unknown_key", R"({"server": {"listn": "127.0.0.1:1"}})",
                     "server.listn: unknown key (did you mean \"listen\"? allowed: listen, threads, admin_token_env, "
                     "admin_token_file, static_dir, cors_origins, max_connections)"},
        invalid_case{"threads_wrong_type", R"({"server": {"threads": "2"}})",
                     "server.threads: expected an integer in 1..64, got a string"},
        invalid_case{"threads_null", R"({"server": {"threads": null}})",
                     "server.threads: expected an integer in 1..64, got null"},
        invalid_case{"threads_zero", R"({"server": {"threads": 0}})",
                     "server.threads: expected an integer in 1..64, got 0"},
        invalid_case{"threads_too_many", R"({"server": {"threads": 65}})",
                     "server.threads: expected an integer in 1..64, got 65"},
        invalid_case{"threads_fraction", R"({"server": {"threads": 2.5}})",
                     "server.threads: expected an integer in 1..64, got 2.5"},
        invalid_case{"threads_huge", R"({"server": {"threads": 18446744073709551615}})",
                     "server.threads: expected an integer in 1..64, got 18446744073709551615"},
        invalid_case{"listen_without_port", R"({"server": {"listen": "127.0.0.1"}})",
                     "server.listen: expected \"host:port\" with a port 1..65535, e.g. \"127.0.0.1:8080\" or "
                     "\"[::1]:8080\""},
        invalid_case{"listen_port_out_of_range", R"({"server": {"listen": "127.0.0.1:65536"}})",
                     "server.listen: expected \"host:port\" with a port 1..65535, e.g. \"127.0.0.1:8080\" or "
                     "\"[::1]:8080\""},
        invalid_case{"admin_token_env_not_a_name", R"({"server": {"admin_token_env": "1TOKEN"}})",
                     "server.admin_token_env: expected an environment variable name (letters, digits and _, not a "
                     "digit first)"},
        invalid_case{"admin_token_file_empty", R"({"server": {"admin_token_file": ""}})",
                     "server.admin_token_file: expected a file path, got an empty string"},
        invalid_case{"cors_origin_not_a_url", R"({"server": {"cors_origins": ["*", "example.com"]}})",
                     "server.cors_origins[1]: expected an http:// or https:// URL with a host, e.g. "
                     "\"https://soc.example.com\""},
        invalid_case{"cors_origins_not_strings", R"({"server": {"cors_origins": [1]}})",
                     "server.cors_origins[0]: expected a string, got a number"},
        invalid_case{"max_connections_zero", R"({"server": {"max_connections": 0}})",
                     "server.max_connections: expected an integer in 1..1000000, got 0"},
        invalid_case{"healing_mode_unknown", R"({"healing": {"mode": "on"}})",
                     "healing.mode: expected \"auto\", \"dry_run\" or \"off\", got \"on\""},
        invalid_case{"healing_mode_not_string", R"({"healing": {"mode": true}})",
                     "healing.mode: expected a string, got a boolean"},
        invalid_case{"max_concurrent_zero", R"({"healing": {"max_concurrent": 0}})",
                     "healing.max_concurrent: expected an integer in 1..64, got 0"},
        invalid_case{"healing_log_capacity_zero", R"({"healing_log": {"capacity": 0}})",
                     "healing_log.capacity: expected an integer in 1..1000000, got 0"},
        invalid_case{"audit_max_bytes_too_small", R"({"healing_log": {"audit_max_bytes": 100}})",
                     "healing_log.audit_max_bytes: expected an integer in 4096..1099511627776, got 100"},
        invalid_case{"audit_file_wrong_type", R"({"healing_log": {"audit_file": 1}})",
                     "healing_log.audit_file: expected a string, got a number"},
        invalid_case{"loops_not_object", R"({"loops": [30]})", "loops: expected an object, got an array"},
        invalid_case{"loop_interval_zero", R"({"loops": {"core": 0}})",
                     "loops.core: expected a number > 0 and <= 86400, got 0"},
        invalid_case{"loop_interval_negative", R"({"loops": {"fast": -0.5}})",
                     "loops.fast: expected a number > 0 and <= 86400, got -0.5"},
        invalid_case{"loop_interval_string", R"({"loops": {"fast": "1s"}})",
                     "loops.fast: expected a number > 0 and <= 86400, got a string"},
        invalid_case{"loop_name_invalid", R"({"loops": {"a.b": 1}})",
                     "loops.a.b: invalid loop name: expected 1..64 letters, digits, '_' or '-'"}),
    case_name);

// ---- breakers ------------------------------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    breakers, config_validation,
    ::testing::Values(
        invalid_case{"breakers_not_object", R"({"breakers": ["database"]})",
                     "breakers: expected an object, got an array"},
        invalid_case{"breaker_not_object", R"({"breakers": {"b": 5}})", "breakers.b: expected an object, got a number"},
        invalid_case{"breaker_name_invalid", R"({"breakers": {"my breaker": {}}})",
                     "breakers.my breaker: invalid breaker name: expected 1..64 letters, digits, '_' or '-'"},
        invalid_case{"breaker_unknown_key", R"({"breakers": {"b": {"threshold": 3}}})",
                     "breakers.b.threshold: unknown key (allowed: mode, failure_threshold, recovery_timeout_s, "
                     "max_recovery_timeout_s, jitter, window_size, minimum_calls, failure_rate_threshold, "
                     "slow_call_ms, slow_call_rate_threshold)"},
        invalid_case{"breaker_mode_unknown", R"({"breakers": {"b": {"mode": "count"}}})",
                     "breakers.b.mode: expected \"consecutive\" or \"rate\", got \"count\""},
        invalid_case{"failure_threshold_zero", R"({"breakers": {"b": {"failure_threshold": 0}}})",
                     "breakers.b.failure_threshold: expected an integer in 1..1000, got 0"},
        invalid_case{"recovery_timeout_zero", R"({"breakers": {"b": {"recovery_timeout_s": 0}}})",
                     "breakers.b.recovery_timeout_s: expected a number > 0 and <= 86400, got 0"},
        invalid_case{"max_recovery_below_recovery",
                     R"({"breakers": {"b": {"recovery_timeout_s": 60, "max_recovery_timeout_s": 30}}})",
                     "breakers.b.max_recovery_timeout_s: expected at least recovery_timeout_s (60)"},
        invalid_case{"jitter_one", R"({"breakers": {"b": {"jitter": 1}}})",
                     "breakers.b.jitter: expected a number >= 0 and < 1, got 1"},
        invalid_case{"jitter_negative", R"({"breakers": {"b": {"jitter": -0.1}}})",
                     "breakers.b.jitter: expected a number >= 0 and < 1, got -0.1"},
        invalid_case{"window_size_zero", R"({"breakers": {"b": {"window_size": 0}}})",
                     "breakers.b.window_size: expected an integer in 1..10000, got 0"},
        invalid_case{"minimum_calls_above_window", R"({"breakers": {"b": {"window_size": 5, "minimum_calls": 6}}})",
                     "breakers.b.minimum_calls: expected at most window_size (5)"},
        invalid_case{"failure_rate_over_100", R"({"breakers": {"b": {"failure_rate_threshold": 101}}})",
                     "breakers.b.failure_rate_threshold: expected a number > 0 and <= 100, got 101"},
        invalid_case{"failure_rate_zero", R"({"breakers": {"b": {"failure_rate_threshold": 0}}})",
                     "breakers.b.failure_rate_threshold: expected a number > 0 and <= 100, got 0"},
        invalid_case{"slow_call_ms_zero", R"({"breakers": {"b": {"slow_call_ms": 0}}})",
                     "breakers.b.slow_call_ms: expected a number > 0 and <= 600000, got 0"},
        invalid_case{"slow_call_rate_over_100", R"({"breakers": {"b": {"slow_call_rate_threshold": 100.5}}})",
                     "breakers.b.slow_call_rate_threshold: expected a number > 0 and <= 100, got 100.5"}),
    case_name);

// ---- subsystems ----------------------------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    subsystems, config_validation,
    ::testing::Values(
        invalid_case{"subsystems_not_object", R"({"subsystems": []})", "subsystems: expected an object, got an array"},
        invalid_case{"subsystem_not_object", R"({"subsystems": {"s": "redis"}})",
                     "subsystems.s: expected an object, got a string"},
        invalid_case{"subsystem_name_invalid", R"({"subsystems": {"": {}}})",
                     "subsystems.: invalid subsystem name: expected 1..64 letters, digits, '_' or '-'"},
        invalid_case{"subsystem_unknown_key", subsystem(R"("critcal": true)"),
                     "subsystems.s.critcal: unknown key (did you mean \"critical\"? allowed: description, loop, "
                     "critical, breaker, depends_on, retry_interval_s, probe, heal)"},
        invalid_case{"unknown_loop", subsystem(R"("loop": "fast")"),
                     "subsystems.s.loop: unknown loop \"fast\" (known: core, integrations, pipelines, optimization)"},
        invalid_case{"unknown_breaker",
                     R"({"breakers": {"database": {}, "redis": {}, "siem_sentinel": {}},
                         "subsystems": {"redis": {"breaker": "rediss", "probe": {"type": "redis"}}}})",
                     "subsystems.redis.breaker: unknown breaker \"rediss\" (known: database, redis, siem_sentinel)"},
        invalid_case{"breaker_without_breakers", subsystem(R"("breaker": "db")"),
                     "subsystems.s.breaker: unknown breaker \"db\" (none are defined)"},
        invalid_case{"critical_not_bool", subsystem(R"("critical": "yes")"),
                     "subsystems.s.critical: expected true or false, got a string"},
        invalid_case{"description_not_string", subsystem(R"("description": 5)"),
                     "subsystems.s.description: expected a string, got a number"},
        invalid_case{"retry_interval_zero", subsystem(R"("retry_interval_s": 0)"),
                     "subsystems.s.retry_interval_s: expected a number > 0 and <= 86400, got 0"},
        invalid_case{"depends_on_not_array", subsystem(R"("depends_on": "db")"),
                     "subsystems.s.depends_on: expected an array of strings, got a string"},
        invalid_case{"depends_on_unknown", subsystem(R"("depends_on": ["db"])"),
                     "subsystems.s.depends_on[0]: unknown subsystem \"db\" (known: s)"},
        invalid_case{"depends_on_itself", subsystem(R"("depends_on": ["s"])"),
                     "subsystems.s.depends_on[0]: a subsystem cannot depend on itself"},
        invalid_case{"depends_on_twice",
                     R"({"subsystems": {"a": {"probe": {"type": "redis"}},
                                        "b": {"depends_on": ["a", "a"], "probe": {"type": "redis"}}}})",
                     "subsystems.b.depends_on[1]: subsystem \"a\" is listed twice"},
        invalid_case{"dependency_cycle_of_two",
                     R"({"subsystems": {"a": {"depends_on": ["b"], "probe": {"type": "redis"}},
                                        "b": {"depends_on": ["a"], "probe": {"type": "redis"}}}})",
                     "subsystems.a.depends_on: dependency cycle a -> b -> a"},
        invalid_case{"dependency_cycle_of_three_after_a_chain",
                     R"({"subsystems": {"root": {"depends_on": ["x"], "probe": {"type": "redis"}},
                                        "x": {"depends_on": ["y"], "probe": {"type": "redis"}},
                                        "y": {"depends_on": ["z"], "probe": {"type": "redis"}},
                                        "z": {"depends_on": ["x"], "probe": {"type": "redis"}}}})",
                     "subsystems.x.depends_on: dependency cycle x -> y -> z -> x"},
        invalid_case{"missing_probe", R"({"subsystems": {"s": {}}})",
                     "subsystems.s.probe: missing required key (expected a probe object with a \"type\")"}),
    case_name);

// ---- probes --------------------------------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    probes, config_validation,
    ::testing::Values(
        invalid_case{"probe_not_object", probe("\"tcp\""), "subsystems.s.probe: expected an object, got a string"},
        invalid_case{"probe_type_missing", probe(R"({"host": "h"})"),
                     "subsystems.s.probe.type: missing required key (expected one of: postgres, redis, http, "
                     "websocket, tcp, exec, file)"},
        invalid_case{"probe_type_unknown", probe(R"({"type": "mysql"})"),
                     "subsystems.s.probe.type: unknown probe type \"mysql\" (known: postgres, redis, http, "
                     "websocket, tcp, exec, file)"},
        invalid_case{"probe_type_not_string", probe(R"({"type": 1})"),
                     "subsystems.s.probe.type: expected a string, got a number"},
        invalid_case{"key_of_another_probe_type", probe(R"({"type": "postgres", "conninfo": "host=h", "url": "x"})"),
                     "subsystems.s.probe.url: unknown key (allowed: type, timeout_ms, degraded_latency_ms, conninfo, "
                     "query, max_connections_pct)"},
        invalid_case{"timeout_zero", probe(R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 0})"),
                     "subsystems.s.probe.timeout_ms: expected an integer in 1..600000, got 0"},
        invalid_case{"timeout_too_long", probe(R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 600001})"),
                     "subsystems.s.probe.timeout_ms: expected an integer in 1..600000, got 600001"},
        invalid_case{
            "degraded_latency_above_timeout",
            probe(R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 1000, "degraded_latency_ms": 1001})"),
            "subsystems.s.probe.degraded_latency_ms: expected at most timeout_ms (1000)"},
        invalid_case{"postgres_without_conninfo", probe(R"({"type": "postgres"})"),
                     "subsystems.s.probe.conninfo: missing required key (expected a libpq connection string)"},
        invalid_case{"postgres_empty_conninfo", probe(R"({"type": "postgres", "conninfo": ""})"),
                     "subsystems.s.probe.conninfo: expected a libpq connection string, got an empty string"},
        invalid_case{"postgres_max_connections_pct",
                     probe(R"({"type": "postgres", "conninfo": "h", "max_connections_pct": 150})"),
                     "subsystems.s.probe.max_connections_pct: expected a number > 0 and <= 100, got 150"},
        invalid_case{"redis_port_zero", probe(R"({"type": "redis", "port": 0})"),
                     "subsystems.s.probe.port: expected an integer in 1..65535, got 0"},
        invalid_case{"redis_empty_host", probe(R"({"type": "redis", "host": ""})"),
                     "subsystems.s.probe.host: expected a host name or address, got an empty string"},
        invalid_case{"redis_password_env_not_a_name", probe(R"({"type": "redis", "password_env": "REDIS-PW"})"),
                     "subsystems.s.probe.password_env: expected an environment variable name (letters, digits and _, "
                     "not a digit first)"},
        invalid_case{"redis_db_negative", probe(R"({"type": "redis", "db": -1})"),
                     "subsystems.s.probe.db: expected an integer in 0..65535, got -1"},
        invalid_case{"http_without_url", probe(R"({"type": "http"})"),
                     "subsystems.s.probe.url: missing required key (expected an http:// or https:// URL)"},
        invalid_case{"http_url_wrong_scheme", probe(R"({"type": "http", "url": "ftp://h/"})"),
                     "subsystems.s.probe.url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:8089/health\""},
        invalid_case{"http_url_without_host", probe(R"({"type": "http", "url": "http:///x"})"),
                     "subsystems.s.probe.url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:8089/health\""},
        invalid_case{"http_url_bad_port", probe(R"({"type": "http", "url": "http://h:99999/"})"),
                     "subsystems.s.probe.url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:8089/health\""},
        invalid_case{"http_url_with_space", probe(R"({"type": "http", "url": "http://h/a b"})"),
                     "subsystems.s.probe.url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:8089/health\""},
        invalid_case{"http_websocket_url", probe(R"({"type": "http", "url": "ws://h/"})"),
                     "subsystems.s.probe.url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:8089/health\""},
        invalid_case{"http_method_unknown", probe(http_with(R"("method": "FETCH")")),
                     "subsystems.s.probe.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
        invalid_case{"http_header_name_invalid", probe(http_with(R"("headers": {"Bad Header": "x"})")),
                     "subsystems.s.probe.headers.Bad Header: invalid header name: expected letters, digits and "
                     "!#$%&'*+-.^_`|~"},
        invalid_case{"http_header_value_with_newline", probe(http_with(R"("headers": {"X-A": "a\nb"})")),
                     "subsystems.s.probe.headers.X-A: expected a header value without CR, LF or NUL"},
        invalid_case{"http_headers_not_strings", probe(http_with(R"("headers": {"X-A": 1})")),
                     "subsystems.s.probe.headers.X-A: expected a string, got a number"},
        invalid_case{"http_headers_not_object", probe(http_with(R"("headers": ["X-A: 1"])")),
                     "subsystems.s.probe.headers: expected an object of string values, got an array"},
        invalid_case{"expect_status_out_of_range", probe(http_with(R"("expect_status": 600)")),
                     "subsystems.s.probe.expect_status: expected an integer in 100..599, got 600"},
        invalid_case{"expect_status_bad_list_item", probe(http_with(R"("expect_status": [200, 99])")),
                     "subsystems.s.probe.expect_status[1]: expected an integer in 100..599, got 99"},
        invalid_case{"expect_status_reversed_range", probe(http_with(R"("expect_status": "299-200")")),
                     "subsystems.s.probe.expect_status: expected a status code 100..599 or a range string such as "
                     "\"200-299\" (low end first)"},
        invalid_case{"expect_status_garbage", probe(http_with(R"("expect_status": "2xx")")),
                     "subsystems.s.probe.expect_status: expected a status code 100..599 or a range string such as "
                     "\"200-299\""},
        invalid_case{"expect_status_range_out_of_bounds", probe(http_with(R"("expect_status": "200-600")")),
                     "subsystems.s.probe.expect_status: expected a status code 100..599 or a range string such as "
                     "\"200-299\""},
        invalid_case{"expect_status_empty_list", probe(http_with(R"("expect_status": [])")),
                     "subsystems.s.probe.expect_status: expected at least one status code or range"},
        invalid_case{"expect_status_bool", probe(http_with(R"("expect_status": true)")),
                     "subsystems.s.probe.expect_status: expected a status code 100..599 or a range string such as "
                     "\"200-299\", got a boolean"},
        invalid_case{"json_rule_without_pointer", probe(http_with(R"("json_rule": {"values": {"a": "healthy"}})")),
                     "subsystems.s.probe.json_rule.pointer: missing required key (expected a JSON pointer such as "
                     "\"/entry/0/content/health\")"},
        invalid_case{"json_rule_bad_pointer",
                     probe(http_with(R"("json_rule": {"pointer": "entry/0", "values": {"a": "healthy"}})")),
                     "subsystems.s.probe.json_rule.pointer: expected a JSON pointer (RFC 6901) such as "
                     "\"/entry/0/content/health\""},
        invalid_case{"json_rule_bad_status",
                     probe(http_with(R"("json_rule": {"pointer": "/h", "values": {"green": "ok"}})")),
                     "subsystems.s.probe.json_rule.values.green: expected \"healthy\", \"degraded\" or \"critical\""},
        invalid_case{"json_rule_no_values", probe(http_with(R"("json_rule": {"pointer": "/h", "values": {}})")),
                     "subsystems.s.probe.json_rule.values: expected at least one value mapped to healthy, degraded or "
                     "critical"},
        invalid_case{
            "json_rule_bad_otherwise",
            probe(http_with(R"("json_rule": {"pointer": "/h", "values": {"a": "healthy"}, "otherwise": "unknown"})")),
            "subsystems.s.probe.json_rule.otherwise: expected \"healthy\", \"degraded\" or \"critical\""},
        invalid_case{"json_rule_unknown_key", probe(http_with(R"("json_rule": {"pointer": "/h", "value": {}})")),
                     "subsystems.s.probe.json_rule.value: unknown key (did you mean \"values\"? allowed: pointer, "
                     "values, otherwise)"},
        invalid_case{"cert_expiry_negative", probe(http_with(R"("cert_expiry_warn_days": -1)")),
                     "subsystems.s.probe.cert_expiry_warn_days: expected an integer in 0..3650, got -1"},
        invalid_case{"insecure_not_bool", probe(http_with(R"("insecure_skip_verify": 1)")),
                     "subsystems.s.probe.insecure_skip_verify: expected true or false, got a number"},
        invalid_case{"websocket_http_url", probe(R"({"type": "websocket", "url": "http://h/ws"})"),
                     "subsystems.s.probe.url: expected a ws:// or wss:// URL with a host, e.g. "
                     "\"ws://127.0.0.1:9105/ws\""},
        invalid_case{"tcp_without_port", probe(R"({"type": "tcp", "host": "h"})"),
                     "subsystems.s.probe.port: missing required key (expected a port 1..65535)"},
        invalid_case{"tcp_without_host", probe(R"({"type": "tcp", "port": 1})"),
                     "subsystems.s.probe.host: missing required key (expected a host name or address)"},
        invalid_case{"tcp_port_too_big", probe(R"({"type": "tcp", "host": "h", "port": 70000})"),
                     "subsystems.s.probe.port: expected an integer in 1..65535, got 70000"},
        invalid_case{"exec_without_argv", probe(R"({"type": "exec"})"),
                     "subsystems.s.probe.argv: missing required key (expected a non-empty array of strings)"},
        invalid_case{"exec_empty_argv", probe(R"({"type": "exec", "argv": []})"),
                     "subsystems.s.probe.argv: expected a non-empty array of strings (the program, then its "
                     "arguments)"},
        invalid_case{"exec_empty_program", probe(R"({"type": "exec", "argv": ["", "x"]})"),
                     "subsystems.s.probe.argv[0]: expected a program name or path, got an empty string"},
        invalid_case{"exec_argv_as_string", probe(R"({"type": "exec", "argv": "check_disk -w 10"})"),
                     "subsystems.s.probe.argv: expected an array of strings, got a string"},
        invalid_case{"exec_env_bad_name", probe(R"({"type": "exec", "argv": ["x"], "env": {"A B": "1"}})"),
                     "subsystems.s.probe.env.A B: expected an environment variable name (letters, digits and _, not a "
                     "digit first)"},
        invalid_case{"file_without_path", probe(R"({"type": "file"})"),
                     "subsystems.s.probe.path: missing required key (expected a file path)"},
        invalid_case{"file_max_age_zero", probe(R"({"type": "file", "path": "/x", "max_age_s": 0})"),
                     "subsystems.s.probe.max_age_s: expected a number > 0 and <= 31622400, got 0"},
        invalid_case{"file_min_size_negative", probe(R"({"type": "file", "path": "/x", "min_size_bytes": -1})"),
                     "subsystems.s.probe.min_size_bytes: expected an integer in 0..9223372036854775807, got -1"},
        // 2^63 as a double equals double(INT64_MAX), so a range check in doubles let it through to an overflowing
        // conversion (undefined behaviour; -9223372036854775808 on x86-64).
        invalid_case{"file_min_size_two_to_the_63",
                     probe(R"({"type": "file", "path": "/x", "min_size_bytes": 9.223372036854775808e18})"),
                     "subsystems.s.probe.min_size_bytes: expected an integer in 0..9223372036854775807, got "
                     "9223372036854775808"},
        invalid_case{"file_min_size_huge", probe(R"({"type": "file", "path": "/x", "min_size_bytes": 1e30})"),
                     "subsystems.s.probe.min_size_bytes: expected an integer in 0..9223372036854775807, got 1e+30"},
        invalid_case{"file_min_size_huge_negative", probe(R"({"type": "file", "path": "/x", "min_size_bytes": -1e30})"),
                     "subsystems.s.probe.min_size_bytes: expected an integer in 0..9223372036854775807, got -1e+30"}),
    case_name);

// ---- heal and actions ----------------------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    heal, config_validation,
    ::testing::Values(
        invalid_case{"heal_unknown_key", subsystem(R"("heal": {"cooldown": 5})"),
                     "subsystems.s.heal.cooldown: unknown key (did you mean \"cooldown_s\"? allowed: actions, "
                     "max_per_hour, cooldown_s, after_failures)"},
        invalid_case{"heal_actions_not_array", subsystem(R"("heal": {"actions": {"type": "reconnect"}})"),
                     "subsystems.s.heal.actions: expected an array, got an object"},
        invalid_case{"max_per_hour_zero", subsystem(R"("heal": {"max_per_hour": 0})"),
                     "subsystems.s.heal.max_per_hour: expected an integer in 1..1000, got 0"},
        invalid_case{"cooldown_negative", subsystem(R"("heal": {"cooldown_s": -1})"),
                     "subsystems.s.heal.cooldown_s: expected a number >= 0 and <= 86400, got -1"},
        invalid_case{"after_failures_zero", subsystem(R"("heal": {"after_failures": 0})"),
                     "subsystems.s.heal.after_failures: expected an integer in 1..1000, got 0"},
        invalid_case{"action_not_object", actions(tcp, R"("reconnect")"),
                     "subsystems.s.heal.actions[0]: expected an object, got a string"},
        invalid_case{"action_type_missing", actions(tcp, R"({"argv": ["x"]})"),
                     "subsystems.s.heal.actions[0].type: missing required key (expected one of: reconnect, exec, "
                     "http, sql, redis)"},
        invalid_case{"action_type_unknown", actions(tcp, R"({"type": "reconnect"}, {"type": "restart"})"),
                     "subsystems.s.heal.actions[1].type: unknown action type \"restart\" (known: reconnect, exec, "
                     "http, sql, redis)"},
        invalid_case{"reconnect_with_options", actions(tcp, R"({"type": "reconnect", "argv": ["x"]})"),
                     "subsystems.s.heal.actions[0].argv: unknown key (allowed: type, name, timeout_ms)"},
        invalid_case{"action_timeout_zero", actions(tcp, R"({"type": "reconnect", "timeout_ms": 0})"),
                     "subsystems.s.heal.actions[0].timeout_ms: expected an integer in 1..600000, got 0"},
        invalid_case{"action_name_invalid", actions(tcp, R"({"type": "reconnect", "name": "re connect"})"),
                     "subsystems.s.heal.actions[0].name: invalid action name: expected 1..64 letters, digits, '_' or "
                     "'-'"},
        invalid_case{"exec_action_empty_argv", actions(tcp, R"({"type": "reconnect"}, {"type": "exec", "argv": []})"),
                     "subsystems.s.heal.actions[1].argv: expected a non-empty array of strings (the program, then "
                     "its arguments)"},
        invalid_case{"http_action_websocket_url", actions(tcp, R"({"type": "http", "url": "wss://h/"})"),
                     "subsystems.s.heal.actions[0].url: expected an http:// or https:// URL with a host, e.g. "
                     "\"http://127.0.0.1:9104/refresh\""},
        invalid_case{"http_action_without_url", actions(tcp, R"({"type": "http"})"),
                     "subsystems.s.heal.actions[0].url: missing required key (expected an http:// or https:// URL)"},
        invalid_case{"http_action_bad_status",
                     actions(tcp, R"({"type": "http", "url": "http://h/", "expect_status": "abc"})"),
                     "subsystems.s.heal.actions[0].expect_status: expected a status code 100..599 or a range string "
                     "such as \"200-299\""},
        invalid_case{"sql_without_statement", actions(R"({"type": "postgres", "conninfo": "h"})", R"({"type": "sql"})"),
                     "subsystems.s.heal.actions[0].statement: missing required key (expected an SQL statement)"},
        invalid_case{"sql_without_conninfo_on_non_postgres",
                     actions(tcp, R"({"type": "sql", "statement": "SELECT 1"})"),
                     "subsystems.s.heal.actions[0].conninfo: missing required key (expected a libpq connection "
                     "string: subsystem s has a tcp probe, not a postgres one, to default to)"},
        invalid_case{"redis_without_target_on_non_redis",
                     actions(tcp, R"({"type": "redis", "argv": ["MEMORY", "PURGE"]})"),
                     "subsystems.s.heal.actions[0].target: missing required key (expected {\"host\", \"port\", ...}: "
                     "subsystem s has a tcp probe, not a redis one, to default to)"},
        invalid_case{"redis_action_empty_argv", actions(R"({"type": "redis"})", R"({"type": "redis", "argv": []})"),
                     "subsystems.s.heal.actions[0].argv: expected a non-empty array of strings, e.g. [\"MEMORY\", "
                     "\"PURGE\"]"},
        invalid_case{
            "redis_target_unknown_key",
            actions(tcp, R"({"type": "redis", "argv": ["PING"], "target": {"host": "h", "max_memory_pct": 5}})"),
            "subsystems.s.heal.actions[0].target.max_memory_pct: unknown key (allowed: host, port, "
            "password_env, db)"},
        invalid_case{"redis_target_bad_port",
                     actions(tcp, R"({"type": "redis", "argv": ["PING"], "target": {"port": 0}})"),
                     "subsystems.s.heal.actions[0].target.port: expected an integer in 1..65535, got 0"}),
    case_name);

// ---- maintenance ---------------------------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    maintenance, config_validation,
    ::testing::Values(
        invalid_case{"maintenance_not_array", R"({"maintenance": {}})",
                     "maintenance: expected an array, got an object"},
        invalid_case{"maintenance_unknown_subsystem",
                     R"({"subsystems": {"db": {"probe": {"type": "postgres", "conninfo": "h"}}},
                         "maintenance": [{"name": "vacuum", "subsystem": "dbx", "action": {"type": "sql", "statement": "VACUUM"}}]})",
                     "maintenance[0].subsystem: unknown subsystem \"dbx\" (known: db)"},
        invalid_case{"maintenance_without_name", R"({"maintenance": [{"subsystem": "db"}]})",
                     "maintenance[0].name: missing required key (expected a task name)"},
        invalid_case{
            "maintenance_without_action",
            R"({"subsystems": {"db": {"probe": {"type": "redis"}}}, "maintenance": [{"name": "m", "subsystem": "db"}]})",
            "maintenance[0].action: missing required key (expected an action object with a \"type\")"},
        invalid_case{"maintenance_duplicate_name",
                     R"({"subsystems": {"db": {"probe": {"type": "redis"}}}, "maintenance": [
                           {"name": "m", "subsystem": "db", "action": {"type": "reconnect"}},
                           {"name": "m", "subsystem": "db", "action": {"type": "reconnect"}}]})",
                     "maintenance[1].name: duplicate maintenance task name \"m\""},
        invalid_case{"maintenance_sql_on_non_postgres",
                     R"({"subsystems": {"cache": {"probe": {"type": "redis"}}}, "maintenance": [
                           {"name": "m", "subsystem": "cache", "action": {"type": "sql", "statement": "VACUUM"}}]})",
                     "maintenance[0].action.conninfo: missing required key (expected a libpq connection string: "
                     "subsystem cache has a redis probe, not a postgres one, to default to)"},
        invalid_case{"maintenance_unknown_key", R"({"maintenance": [{"name": "m", "interval_s": 5}]})",
                     "maintenance[0].interval_s: unknown key (allowed: name, subsystem, action)"}),
    case_name);

}  // namespace
}  // namespace healthd::config
