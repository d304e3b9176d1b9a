#include "healthd/config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace healthd::config {
namespace {

using testing::env_of;
using testing::error_of;
using testing::no_env;

// The description of a single subsystem, after substitution: the simplest string to observe.
std::string description_after(const std::string& description, const env_lookup& env) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"description": ")" + description +
                                    R"(", "probe": {"type": "tcp", "host": "h", "port": 1}}}})",
                                env);
  return cfg.subsystems.at(0).description;
}

struct substitution_case {
  std::string text;
  std::string expected;
};

TEST(env_substitution, variables_are_replaced) {
  const auto env = env_of({{"A", "alpha"}, {"B", "beta"}, {"EMPTY", ""}, {"NESTED", "${A}"}});
  const std::vector<substitution_case> cases{
      {"${A}", "alpha"},
      {"x-${A}-y", "x-alpha-y"},
      {"${A}${B}", "alphabeta"},
      {"$${A}", "${A}"},       // $${ writes a literal ${
      {"$$${A}", "$${A}"},     // left to right: a lone $, then $${ -> ${
      {"cost $5", "cost $5"},  // a $ not followed by { is kept
      {"$$x", "$$x"},          //   also when doubled
      {"end$", "end$"},
      {"${EMPTY}", ""},
      {"${UNSET:-fallback}", "fallback"},
      {"${UNSET:-}", ""},
      {"${A:-fallback}", "alpha"},
      {"${NESTED}", "${A}"},  // substituted text is not expanded again
      {"no variables", "no variables"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(description_after(c.text, env), c.expected);
  }
}

TEST(env_substitution, reaches_strings_inside_arrays_and_nested_objects) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {
      "probe": {"type": "exec", "argv": ["/bin/check", "--token", "${TOKEN}"], "env": {"KEY": "${TOKEN}"}}}}})",
                                env_of({{"TOKEN", "t0k3n"}}));
  const auto& exec = std::get<exec_probe>(cfg.subsystems.at(0).probe.options);
  EXPECT_EQ(exec.argv.at(2), "t0k3n");
  EXPECT_EQ(exec.env.at("KEY"), "t0k3n");
}

TEST(env_substitution, keys_are_not_substituted) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
      "json_rule": {"pointer": "/v", "values": {"${A}": "healthy"}}}}}})",
                                env_of({{"A", "alpha"}}));
  const auto& values = std::get<http_probe>(cfg.subsystems.at(0).probe.options).rule->values;
  EXPECT_EQ(values.count("${A}"), 1U);
  EXPECT_EQ(values.count("alpha"), 0U);
  EXPECT_TRUE(cfg.secrets.empty());
}

TEST(env_substitution, unset_variable_names_path_and_variable) {
  EXPECT_EQ(error_of(R"({"subsystems": {"db": {"probe": {"type": "postgres", "conninfo": "password=${PGPASS}"}}}})"),
            "subsystems.db.probe.conninfo: environment variable PGPASS is not set (used as ${PGPASS}; write "
            "${PGPASS:-default} to make it optional)");
}

TEST(env_substitution, unset_variable_in_array_names_the_index) {
  const auto error =
      error_of(R"({"subsystems": {"db": {"probe": {"type": "tcp", "host": "h", "port": 1}, "heal": {"actions": [
        {"type": "reconnect"}, {"type": "exec", "argv": ["a", "b", "${MISSING}"]}]}}}})");
  EXPECT_TRUE(error.starts_with("subsystems.db.heal.actions[1].argv[2]: environment variable MISSING is not set"))
      << error;
}

TEST(env_substitution, unset_variable_in_an_unknown_section_is_still_reported) {
  // Substitution runs over the whole tree before validation, so the first problem found is the variable.
  EXPECT_TRUE(error_of(R"({"server": {"static_dir": "${NOPE}"}})").starts_with("server.static_dir: environment"));
}

TEST(env_substitution, malformed_references_are_errors) {
  EXPECT_EQ(error_of(R"({"server": {"static_dir": "a${B"}})"),
            "server.static_dir: unterminated ${ (write ${NAME}, or $${ for a literal ${)");
  const std::string invalid =
      "server.static_dir: invalid variable reference in ${...}: expected ${NAME} or ${NAME:-default}, NAME of "
      "letters, digits and _";
  EXPECT_EQ(error_of(R"({"server": {"static_dir": "${1A}"}})"), invalid);
  EXPECT_EQ(error_of(R"({"server": {"static_dir": "${}"}})"), invalid);
  EXPECT_EQ(error_of(R"({"server": {"static_dir": "${A-B}"}})"), invalid);
}

// ---- secrets -------------------------------------------------------------------------------------------------

TEST(config_secrets, substituted_values_are_secrets) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
      "headers": {"Authorization": "Bearer ${TOKEN}"}}}}})",
                                env_of({{"TOKEN", "sekrit-token"}}));
  EXPECT_EQ(std::get<http_probe>(cfg.subsystems.at(0).probe.options).headers.at("Authorization"),
            "Bearer sekrit-token");
  EXPECT_EQ(cfg.secrets.size(), 1U);
  EXPECT_EQ(cfg.secrets.redact("Bearer sekrit-token"), "Bearer ***");
}

TEST(config_secrets, defaults_of_unset_variables_are_not_secrets) {
  const auto cfg = parse_config(R"({"server": {"static_dir": "${DIR:-www}"}})", no_env);
  EXPECT_TRUE(cfg.secrets.empty());
}

TEST(config_secrets, conninfo_passwords_of_probes_and_sql_actions_are_secrets) {
  const auto cfg = parse_config(R"({"subsystems": {
      "db": {"probe": {"type": "postgres", "conninfo": "host=h user=u password=pr0be-pw"},
             "heal": {"actions": [{"type": "sql", "statement": "SELECT 1",
                                   "conninfo": "postgresql://admin:act%69on-pw@h/db"}]}}},
    "maintenance": [{"name": "m", "subsystem": "db",
                     "action": {"type": "sql", "statement": "SELECT 1", "conninfo": "host=h password='maint pw'"}}]})",
                                no_env);
  EXPECT_EQ(cfg.secrets.size(), 3U);
  EXPECT_EQ(cfg.secrets.redact("pr0be-pw action-pw maint pw"), "*** *** ***");
}

TEST(config_secrets, redis_password_and_admin_token_from_env_are_secrets) {
  const auto cfg = parse_config(R"({"server": {"admin_token_env": "ADMIN"},
      "subsystems": {"r": {"probe": {"type": "redis", "password_env": "RPW"},
                           "heal": {"actions": [{"type": "redis", "argv": ["PING"],
                                                 "target": {"host": "h", "password_env": "RPW2"}}]}}}})",
                                env_of({{"ADMIN", "adm1n"}, {"RPW", "redis-pw"}, {"RPW2", "other-pw"}}));
  EXPECT_EQ(cfg.secrets.size(), 3U);
  EXPECT_EQ(cfg.secrets.redact("adm1n redis-pw other-pw"), "*** *** ***");
}

TEST(config_secrets, default_admin_token_variable_is_a_secret_when_set) {
  const auto cfg = parse_config("{}", env_of({{"HEALTHD_ADMIN_TOKEN", "tok"}}));
  EXPECT_EQ(cfg.secrets.redact("tok"), "***");
}

struct secret_error_case {
  std::string name;
  std::string json;
  std::string expected_path;
};

// Each config fails validation on a string that came from ${SECRET}; the error names the path but never the value.
TEST(config_secrets, error_texts_never_contain_a_secret) {
  const std::string secret = "hunter2-s3cr3t";
  const auto env = env_of({{"SECRET", secret}});
  const std::vector<secret_error_case> cases{
      {"type error", R"({"server": {"threads": "${SECRET}"}})", "server.threads"},
      {"bad listen", R"({"server": {"listen": "${SECRET}"}})", "server.listen"},
      {"unknown loop", R"({"subsystems": {"s": {"loop": "${SECRET}", "probe": {"type": "redis"}}}})",
       "subsystems.s.loop"},
      {"unknown breaker", R"({"subsystems": {"s": {"breaker": "x${SECRET}", "probe": {"type": "redis"}}}})",
       "subsystems.s.breaker"},
      {"unknown dependency", R"({"subsystems": {"s": {"depends_on": ["${SECRET}"], "probe": {"type": "redis"}}}})",
       "subsystems.s.depends_on[0]"},
      {"unknown probe type", R"({"subsystems": {"s": {"probe": {"type": "${SECRET}"}}}})", "subsystems.s.probe.type"},
      {"bad url", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "ftp://h/?k=${SECRET}"}}}})",
       "subsystems.s.probe.url"},
      {"bad header", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
          "headers": {"Authorization": "Bearer ${SECRET}\r\nX: y"}}}}})",
       "subsystems.s.probe.headers.Authorization"},
      {"bad mode", R"({"healing": {"mode": "${SECRET}"}})", "healing.mode"},
      {"bad status", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
          "expect_status": "${SECRET}"}}}})",
       "subsystems.s.probe.expect_status"},
      {"bad json pointer", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
          "json_rule": {"pointer": "${SECRET}", "values": {"a": "healthy"}}}}}})",
       "subsystems.s.probe.json_rule.pointer"},
      {"bad rule status", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
          "json_rule": {"pointer": "/a", "values": {"a": "${SECRET}"}}}}}})",
       "subsystems.s.probe.json_rule.values.a"},
      {"bad env name", R"({"subsystems": {"s": {"probe": {"type": "redis", "password_env": "${SECRET}"}}}})",
       "subsystems.s.probe.password_env"},
      {"maintenance subsystem",
       R"({"maintenance": [{"name": "m", "subsystem": "${SECRET}", "action": {"type": "reconnect"}}]})",
       "maintenance[0].subsystem"},
      {"bad method", R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/", "method": "${SECRET}"}}}})",
       "subsystems.s.probe.method"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      (void)parse_config(c.json, env);
      ADD_FAILURE() << "no error";
    } catch (const config_error& e) {
      EXPECT_EQ(e.path(), c.expected_path) << e.what();
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
  }
}

TEST(config_secrets, syntax_error_does_not_echo_file_content) {
  const auto error = error_of(R"({"subsystems": {"db": {"probe": {"conninfo": "password=hunter2 )");
  EXPECT_TRUE(error.starts_with("line 1, column")) << error;
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(config_secrets, conninfo_password_is_not_echoed_by_later_errors) {
  const auto error = error_of(R"({"subsystems": {"db": {"probe": {"type": "postgres",
      "conninfo": "password=hunter2", "query": ""}}}})");
  EXPECT_EQ(error, "subsystems.db.probe.query: expected an SQL query, got an empty string");
}

}  // namespace
}  // namespace healthd::config
