#include "healthd/config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace healthd::config {
namespace {

using testing::error_of;
using testing::no_env;
using testing::source_path;

std::vector<std::string> names_of(const auto& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& item : items)
    out.push_back(item.name);
  return out;
}

const subsystem_config& only_subsystem(const daemon_config& cfg) {
  EXPECT_EQ(cfg.subsystems.size(), 1U);
  return cfg.subsystems.at(0);
}

daemon_config parse_probe(const std::string& probe) {
  return parse_config(R"({"subsystems": {"s": {"probe": )" + probe + "}}}", no_env);
}

// ---- defaults ------------------------------------------------------------------------------------------------

TEST(config_loader, empty_object_gives_the_documented_defaults) {
  const auto cfg = parse_config("{}", no_env);
  const daemon_config defaults;
  EXPECT_EQ(cfg.server, defaults.server);
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(cfg.server.threads, 2);
  EXPECT_EQ(cfg.server.admin_token_env, "HEALTHD_ADMIN_TOKEN");
  EXPECT_FALSE(cfg.server.admin_token_file);
  EXPECT_EQ(cfg.server.static_dir, "frontend/out");
  EXPECT_TRUE(cfg.server.cors_origins.empty());
  EXPECT_EQ(cfg.healing, defaults.healing);
  EXPECT_EQ(cfg.healing.mode, healing_mode::automatic);
  EXPECT_EQ(cfg.healing.max_concurrent, 2);
  EXPECT_EQ(cfg.healing_log.capacity, 200);
  EXPECT_EQ(cfg.healing_log.audit_max_bytes, 64LL * 1024 * 1024);
  EXPECT_FALSE(cfg.healing_log.audit_file);
  EXPECT_EQ(cfg.loops, default_loops());
  EXPECT_TRUE(cfg.breakers.empty());
  EXPECT_TRUE(cfg.subsystems.empty());
  EXPECT_TRUE(cfg.maintenance.empty());
  EXPECT_TRUE(cfg.secrets.empty());
}

TEST(config_loader, default_loops_are_core_integrations_pipelines_optimization) {
  const std::vector<loop_config> expected{
      {"core", 30}, {"integrations", 60}, {"pipelines", 120}, {"optimization", 3600}};
  EXPECT_EQ(default_loops(), expected);
  EXPECT_EQ(daemon_config{}.loops, expected);
}

TEST(config_loader, breaker_defaults_are_filled) {
  const auto cfg = parse_config(R"({"breakers": {"b": {}}})", no_env);
  ASSERT_EQ(cfg.breakers.size(), 1U);
  breaker_config expected;
  expected.name = "b";
  EXPECT_EQ(cfg.breakers[0], expected);
  EXPECT_EQ(cfg.breakers[0].failure_threshold, 5);
  EXPECT_EQ(cfg.breakers[0].recovery_timeout_s, 60);
  EXPECT_EQ(cfg.breakers[0].max_recovery_timeout_s, 900);
  EXPECT_EQ(cfg.breakers[0].jitter, 0.1);
  EXPECT_EQ(cfg.breakers[0].mode, breaker_mode::consecutive);
}

TEST(config_loader, subsystem_defaults_are_filled) {
  const auto cfg = parse_probe(R"({"type": "tcp", "host": "127.0.0.1", "port": 5432})");
  const auto& s = only_subsystem(cfg);
  EXPECT_EQ(s.name, "s");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.loop, "core");
  EXPECT_FALSE(s.critical);
  EXPECT_FALSE(s.breaker);
  EXPECT_TRUE(s.depends_on.empty());
  EXPECT_EQ(s.retry_interval_s, 0.5);
  EXPECT_TRUE(s.heal.actions.empty());
  EXPECT_EQ(s.heal.max_per_hour, 6);
  EXPECT_EQ(s.heal.cooldown_s, 30);
  EXPECT_EQ(s.heal.after_failures, 3);
}

struct probe_timeout_case {
  std::string probe;
  int timeout_ms;
  int degraded_latency_ms;
};

TEST(config_loader, probe_timeouts_default_by_type_and_degraded_latency_to_half) {
  const std::vector<probe_timeout_case> cases{
      {R"({"type": "postgres", "conninfo": "host=x"})", 2000, 1000},
      {R"({"type": "redis"})", 2000, 1000},
      {R"({"type": "http", "url": "http://127.0.0.1/"})", 2000, 1000},
      {R"({"type": "websocket", "url": "ws://127.0.0.1/"})", 2000, 1000},
      {R"({"type": "tcp", "host": "h", "port": 1})", 2000, 1000},
      {R"({"type": "exec", "argv": ["true"]})", 10000, 5000},
      {R"({"type": "file", "path": "/tmp/x"})", 2000, 1000},
      {R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 300})", 300, 150},
      {R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 1})", 1, 1},
      {R"({"type": "tcp", "host": "h", "port": 1, "timeout_ms": 500, "degraded_latency_ms": 50})", 500, 50},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.probe);
    const auto cfg = parse_probe(c.probe);
    const auto& p = only_subsystem(cfg).probe;
    EXPECT_EQ(p.timeout_ms, c.timeout_ms);
    EXPECT_EQ(p.degraded_latency_ms, c.degraded_latency_ms);
  }
}

TEST(config_loader, probe_options_defaults_are_filled) {
  const auto pg = parse_probe(R"({"type": "postgres", "conninfo": "host=x"})");
  const auto& postgres = std::get<postgres_probe>(only_subsystem(pg).probe.options);
  EXPECT_EQ(postgres.query, "SELECT 1");
  EXPECT_EQ(postgres.max_connections_pct, 90);

  const auto rd = parse_probe(R"({"type": "redis"})");
  const auto& redis = std::get<redis_probe>(only_subsystem(rd).probe.options);
  EXPECT_EQ(redis, redis_probe{});
  EXPECT_EQ(redis.host, "127.0.0.1");
  EXPECT_EQ(redis.port, 6379);

  const auto ht = parse_probe(R"({"type": "http", "url": "https://example.test/health"})");
  const auto& http = std::get<http_probe>(only_subsystem(ht).probe.options);
  EXPECT_EQ(http.method, "GET");
  EXPECT_EQ(http.expect_status, (std::vector<status_range>{{200, 299}}));
  EXPECT_FALSE(http.rule);
  EXPECT_FALSE(http.insecure_skip_verify);
  EXPECT_EQ(http.cert_expiry_warn_days, 14);
}

TEST(config_loader, action_defaults_are_filled) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {
      "probe": {"type": "postgres", "conninfo": "host=x"},
      "heal": {"actions": [{"type": "reconnect"}, {"type": "http", "url": "http://h/r"}, {"type": "sql", "statement": "SELECT 1"}]}}}})",
                                no_env);
  const auto& actions = only_subsystem(cfg).heal.actions;
  ASSERT_EQ(actions.size(), 3U);
  for (const auto& a : actions)
    EXPECT_EQ(a.timeout_ms, 10000) << a.type;
  EXPECT_EQ(actions[0].label(), "reconnect");
  EXPECT_TRUE(std::holds_alternative<reconnect_action>(actions[0].options));
  EXPECT_EQ(std::get<http_action>(actions[1].options).method, "POST");
  EXPECT_FALSE(std::get<sql_action>(actions[2].options).conninfo);
}

TEST(config_loader, named_action_label_is_type_colon_name) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "tcp", "host": "h", "port": 1},
      "heal": {"actions": [{"type": "exec", "name": "restart-redis", "argv": ["systemctl", "restart", "redis"]}]}}}})",
                                no_env);
  EXPECT_EQ(only_subsystem(cfg).heal.actions.at(0).label(), "exec:restart-redis");
}

// ---- syntax --------------------------------------------------------------------------------------------------

TEST(config_loader, line_and_block_comments_are_accepted) {
  const auto cfg = parse_config(R"(// leading comment
{
  /* block
     comment */
  "healing": { "mode": "dry_run" }, // trailing comment
  "server": { /* inline */ "threads": 4 }
})",
                                no_env);
  EXPECT_EQ(cfg.healing.mode, healing_mode::dry_run);
  EXPECT_EQ(cfg.server.threads, 4);
}

TEST(config_loader, syntax_error_reports_line_and_column) {
  const auto error = error_of("{\n  \"server\": {\n    \"threads\": 2\n    \"listen\": \"x\"\n  }\n}");
  // The parser stops after the unexpected token: the "listen" key, which lacks a comma before it.
  EXPECT_EQ(error, "line 4, column 12: syntax error while parsing object - unexpected string literal; expected '}'");
}

TEST(config_loader, unterminated_comment_is_a_syntax_error) {
  EXPECT_TRUE(error_of("{ /* never closed ").starts_with("line 1, column")) << error_of("{ /* never closed ");
}

TEST(config_loader, top_level_must_be_an_object) {
  EXPECT_EQ(error_of("[1, 2]"), "expected a JSON object at the top level, got an array");
}

TEST(config_loader, duplicate_key_is_reported_with_its_path) {
  EXPECT_EQ(error_of(R"({"subsystems": {"a": {}, "a": {}}})"),
            "subsystems.a: duplicate key (each key may appear once in an object)");
  EXPECT_EQ(error_of(R"({"maintenance": [{"name": "x"}, {"name": "y", "name": "z"}]})"),
            "maintenance[1].name: duplicate key (each key may appear once in an object)");
  EXPECT_EQ(error_of(R"({"a": [[1, {"k": 1}], {"k": 1, "k": 2}]})"),
            "a[1].k: duplicate key (each key may appear once in an object)");
}

// ---- order, fractions, loops ---------------------------------------------------------------------------------

TEST(config_loader, breakers_subsystems_and_loops_keep_file_order) {
  const auto cfg = parse_config(R"({
    "loops": {"zeta": 1, "alpha": 2, "core": 3},
    "breakers": {"zz": {}, "aa": {}, "mm": {}},
    "subsystems": {
      "zulu": {"probe": {"type": "tcp", "host": "h", "port": 1}},
      "alpha": {"probe": {"type": "tcp", "host": "h", "port": 1}},
      "mike": {"probe": {"type": "tcp", "host": "h", "port": 1}}
    }})",
                                no_env);
  EXPECT_EQ(names_of(cfg.breakers), (std::vector<std::string>{"zz", "aa", "mm"}));
  EXPECT_EQ(names_of(cfg.subsystems), (std::vector<std::string>{"zulu", "alpha", "mike"}));
  EXPECT_EQ(names_of(cfg.loops),
            (std::vector<std::string>{"zeta", "alpha", "core", "integrations", "pipelines", "optimization"}));
}

TEST(config_loader, partial_loops_keep_the_four_defaults) {
  const auto cfg = parse_config(R"({"loops": {"integrations": 5, "fast": 0.2}})", no_env);
  const std::vector<loop_config> expected{
      {"integrations", 5}, {"fast", 0.2}, {"core", 30}, {"pipelines", 120}, {"optimization", 3600}};
  EXPECT_EQ(cfg.loops, expected);
  ASSERT_NE(cfg.find_loop("fast"), nullptr);
  EXPECT_EQ(cfg.find_loop("fast")->interval_s, 0.2);
}

TEST(config_loader, seconds_values_accept_fractions) {
  const auto cfg = parse_config(R"({
    "loops": {"core": 0.2},
    "breakers": {"b": {"recovery_timeout_s": 0.25, "max_recovery_timeout_s": 1.5}},
    "subsystems": {"s": {"breaker": "b", "retry_interval_s": 0.05,
      "probe": {"type": "file", "path": "/tmp/x", "max_age_s": 90.5},
      "heal": {"cooldown_s": 0.1}}}})",
                                no_env);
  EXPECT_EQ(cfg.find_loop("core")->interval_s, 0.2);
  EXPECT_EQ(cfg.breakers.at(0).recovery_timeout_s, 0.25);
  EXPECT_EQ(cfg.breakers.at(0).max_recovery_timeout_s, 1.5);
  const auto& s = only_subsystem(cfg);
  EXPECT_EQ(s.retry_interval_s, 0.05);
  EXPECT_EQ(s.heal.cooldown_s, 0.1);
  EXPECT_EQ(std::get<file_probe>(s.probe.options).max_age_s, 90.5);
}

TEST(config_loader, integer_written_as_whole_float_is_accepted) {
  EXPECT_EQ(parse_config(R"({"server": {"threads": 4.0}})", no_env).server.threads, 4);
}

TEST(config_loader, largest_whole_floats_below_the_integer_limit_are_accepted) {
  // 2^63 - 1024, the largest double below 2^63: in range, and exactly representable as an int64.
  const auto cfg = parse_config(
      R"({"subsystems": {"s": {"probe": {"type": "file", "path": "/x", "min_size_bytes": 9223372036854774784.0}}}})",
      no_env);
  EXPECT_EQ(std::get<file_probe>(cfg.subsystems.at(0).probe.options).min_size_bytes, 9223372036854774784);
}

TEST(config_loader, null_clears_optional_strings) {
  const auto cfg = parse_config(R"({"server": {"admin_token_env": null}})", no_env);
  EXPECT_FALSE(cfg.server.admin_token_env);
}

TEST(config_loader, subsystem_fields_are_read) {
  const auto cfg = parse_config(R"({
    "loops": {"fast": 0.2},
    "breakers": {"b": {}},
    "subsystems": {
      "base": {"probe": {"type": "tcp", "host": "h", "port": 1}},
      "s": {"description": "the thing", "loop": "fast", "critical": true, "breaker": "b", "depends_on": ["base"],
            "probe": {"type": "tcp", "host": "h", "port": 1},
            "heal": {"max_per_hour": 2, "cooldown_s": 5, "after_failures": 4}}}})",
                                no_env);
  const auto* s = cfg.find_subsystem("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->description, "the thing");
  EXPECT_EQ(s->loop, "fast");
  EXPECT_TRUE(s->critical);
  EXPECT_EQ(s->breaker, "b");
  EXPECT_EQ(s->depends_on, std::vector<std::string>{"base"});
  EXPECT_EQ(s->heal.max_per_hour, 2);
  EXPECT_EQ(s->heal.cooldown_s, 5);
  EXPECT_EQ(s->heal.after_failures, 4);
  EXPECT_EQ(cfg.find_subsystem("nope"), nullptr);
  EXPECT_NE(cfg.find_breaker("b"), nullptr);
}

TEST(config_loader, two_subsystems_may_share_one_breaker) {
  const auto cfg = parse_config(R"({"breakers": {"shared": {}}, "subsystems": {
      "a": {"breaker": "shared", "probe": {"type": "tcp", "host": "h", "port": 1}},
      "b": {"breaker": "shared", "probe": {"type": "tcp", "host": "h", "port": 2}}}})",
                                no_env);
  EXPECT_EQ(cfg.subsystems.at(0).breaker, "shared");
  EXPECT_EQ(cfg.subsystems.at(1).breaker, "shared");
}

TEST(config_loader, breaker_rate_mode_is_read) {
  const auto cfg = parse_config(R"({"breakers": {"b": {"mode": "rate", "window_size": 10, "minimum_calls": 4,
      "failure_rate_threshold": 40, "slow_call_ms": 800, "slow_call_rate_threshold": 60, "jitter": 0}}})",
                                no_env);
  const auto& b = cfg.breakers.at(0);
  EXPECT_EQ(b.mode, breaker_mode::rate);
  EXPECT_EQ(b.window_size, 10);
  EXPECT_EQ(b.minimum_calls, 4);
  EXPECT_EQ(b.failure_rate_threshold, 40);
  EXPECT_EQ(b.slow_call_ms, 800);
  EXPECT_EQ(b.slow_call_rate_threshold, 60);
  EXPECT_EQ(b.jitter, 0);
}

TEST(config_loader, default_minimum_calls_shrinks_to_a_small_window) {
  const auto cfg = parse_config(R"({"breakers": {"b": {"mode": "rate", "window_size": 4}}})", no_env);
  EXPECT_EQ(cfg.breakers.at(0).minimum_calls, 4);
}

// ---- http options --------------------------------------------------------------------------------------------

struct expect_status_case {
  std::string json;
  std::vector<status_range> ranges;
};

TEST(config_loader, expect_status_accepts_code_list_and_range) {
  const std::vector<expect_status_case> cases{
      {"200", {{200, 200}}},
      {R"("200-299")", {{200, 299}}},
      {R"("204")", {{204, 204}}},
      {"[200, 202, 204]", {{200, 200}, {202, 202}, {204, 204}}},
      {R"([200, "300-399"])", {{200, 200}, {300, 399}}},
      {R"("100-599")", {{100, 599}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto cfg = parse_probe(R"({"type": "http", "url": "http://h/", "expect_status": )" + c.json + "}");
    EXPECT_EQ(std::get<http_probe>(only_subsystem(cfg).probe.options).expect_status, c.ranges);
  }
}

TEST(config_loader, json_rule_maps_values_to_statuses) {
  const auto cfg = parse_probe(R"({"type": "http", "url": "http://127.0.0.1:8089/services/server/health/splunkd",
      "json_rule": {"pointer": "/entry/0/content/health",
                    "values": {"green": "healthy", "yellow": "degraded", "red": "critical"},
                    "otherwise": "degraded"}})");
  const auto& rule = std::get<http_probe>(only_subsystem(cfg).probe.options).rule;
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->pointer, "/entry/0/content/health");
  EXPECT_EQ(rule->values.at("green"), probe_status::healthy);
  EXPECT_EQ(rule->values.at("yellow"), probe_status::degraded);
  EXPECT_EQ(rule->values.at("red"), probe_status::critical);
  EXPECT_EQ(rule->otherwise, probe_status::degraded);
}

TEST(config_loader, json_rule_otherwise_defaults_to_critical) {
  const auto cfg =
      parse_probe(R"({"type": "http", "url": "http://h/", "json_rule": {"pointer": "", "values": {"ok": "healthy"}}})");
  EXPECT_EQ(std::get<http_probe>(only_subsystem(cfg).probe.options).rule->otherwise, probe_status::critical);
}

TEST(config_loader, url_forms_are_accepted) {
  for (const auto* url : {"http://127.0.0.1", "https://h:8443/x?y=1#z", "http://user:pw@h/", "HTTPS://H/",
                          "http://[::1]:8080/", "http://[::1]/"}) {
    SCOPED_TRACE(url);
    EXPECT_NO_THROW((void)parse_probe(std::string(R"({"type": "http", "url": ")") + url + "\"}"));
  }
  EXPECT_NO_THROW((void)parse_probe(R"({"type": "websocket", "url": "wss://h:9443/ws"})"));
}

TEST(config_loader, redis_action_target_and_sql_conninfo_are_read) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "tcp", "host": "h", "port": 1},
      "heal": {"actions": [
        {"type": "redis", "argv": ["MEMORY", "PURGE"], "target": {"host": "10.0.0.1", "port": 6380, "db": 2}},
        {"type": "sql", "statement": "SELECT 1", "conninfo": "host=db"}]}}}})",
                                no_env);
  const auto& actions = only_subsystem(cfg).heal.actions;
  const auto& redis = std::get<redis_action>(actions.at(0).options);
  ASSERT_TRUE(redis.target);
  EXPECT_EQ(redis.target->host, "10.0.0.1");
  EXPECT_EQ(redis.target->port, 6380);
  EXPECT_EQ(redis.target->db, 2);
  EXPECT_EQ(std::get<sql_action>(actions.at(1).options).conninfo, "host=db");
}

TEST(config_loader, maintenance_tasks_are_read_in_order) {
  const auto cfg = parse_config(R"({"subsystems": {
      "db": {"probe": {"type": "postgres", "conninfo": "host=x"}},
      "cache": {"probe": {"type": "redis"}}},
    "maintenance": [
      {"name": "vacuum", "subsystem": "db", "action": {"type": "sql", "statement": "VACUUM"}},
      {"name": "purge", "subsystem": "cache", "action": {"type": "redis", "argv": ["MEMORY", "PURGE"]}}]})",
                                no_env);
  ASSERT_EQ(cfg.maintenance.size(), 2U);
  EXPECT_EQ(cfg.maintenance[0].name, "vacuum");
  EXPECT_EQ(cfg.maintenance[0].subsystem, "db");
  EXPECT_EQ(cfg.maintenance[0].action.type, "sql");
  EXPECT_EQ(cfg.maintenance[1].name, "purge");
  EXPECT_EQ(std::get<redis_action>(cfg.maintenance[1].action.options).argv,
            (std::vector<std::string>{"MEMORY", "PURGE"}));
}

// ---- files ---------------------------------------------------------------------------------------------------

TEST(config_loader, file_with_comments_loads) {
  const auto cfg = load_config_file(source_path("tests/unit/config/data/commented.json"), no_env);
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:18080");
  ASSERT_EQ(cfg.subsystems.size(), 1U);
  EXPECT_EQ(cfg.subsystems[0].name, "cache");
}

TEST(config_loader, missing_file_names_the_file) {
  try {
    (void)load_config_file("/nonexistent/healthd.json", no_env);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "cannot read config file \"/nonexistent/healthd.json\": No such file or directory");
    EXPECT_EQ(e.path(), "");
  }
}

TEST(config_loader, directory_is_not_a_config_file) {
  try {
    (void)load_config_file(source_path("tests/unit/config/data"), no_env);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_TRUE(std::string(e.what()).ends_with("\": it is a directory")) << e.what();
  }
}

TEST(config_loader, file_errors_keep_the_json_path) {
  try {
    (void)load_config_file(source_path("tests/unit/config/data/unknown_breaker.json"), no_env);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.path(), "subsystems.redis.breaker");
    EXPECT_STREQ(e.what(), R"(subsystems.redis.breaker: unknown breaker "rediss" (known: database, redis))");
  }
}

// ---- listen addresses ----------------------------------------------------------------------------------------

TEST(listen_address, valid_forms_parse) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080"), (listen_address{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen_address("[::1]:9000"), (listen_address{"::1", 9000}));
  EXPECT_EQ(parse_listen_address("localhost:1"), (listen_address{"localhost", 1}));
  EXPECT_EQ(parse_listen_address("0.0.0.0:65535"), (listen_address{"0.0.0.0", 65535}));
}

TEST(listen_address, invalid_forms_are_rejected) {
  for (const auto* text : {"", "8080", ":8080", "host:", "host:0", "host:65536", "host:80a", "::1:8080", "[::1]8080",
                           "[]:80", "h st:80", "host:+80", "host:123456"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_listen_address(text));
  }
}

TEST(healing_mode_names, round_trip) {
  for (const auto mode : {healing_mode::automatic, healing_mode::dry_run, healing_mode::off})
    EXPECT_EQ(parse_healing_mode(to_string(mode)), mode);
  EXPECT_FALSE(parse_healing_mode("automatic"));
}

}  // namespace
}  // namespace healthd::config
