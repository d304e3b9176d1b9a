#include "healthd/config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// What a probe or action does with a text from a peer, a child or a library before it reaches a message or the API's
// `details`: the config's secret set redacts it (probe_support.cpp `finish`, the actions' messages).
bool hidden(const daemon_config& cfg, const std::string& value) {
  const auto message = cfg.secrets.sanitize("peer said: " + value + ".");
  const auto detail = sanitize_json(nlohmann::json{{"answer", value}, {value, 1}}, cfg.secrets).dump();
  return message.find(value) == std::string::npos && detail.find(value) == std::string::npos;
}

bool shown(const daemon_config& cfg, const std::string& value) {
  return cfg.secrets.sanitize("peer said: " + value + ".") == "peer said: " + value + ".";
}

TEST(config_secrets, variables_named_as_secrets_are_secrets) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "exec",
      "argv": ["/bin/check", "${API_TOKEN}", "${db_password}", "${MySecret}", "${SIGNING_KEY}", "${GCP_CREDENTIALS}",
               "${PGPASS}"]}}}})",
                                env_of({{"API_TOKEN", "t0k3n"},
                                        {"db_password", "pw1"},
                                        {"MySecret", "s3"},
                                        {"SIGNING_KEY", "k3y"},
                                        {"GCP_CREDENTIALS", "/run/creds.json"},
                                        {"PGPASS", "pgpw"}}));
  EXPECT_EQ(std::get<exec_probe>(cfg.subsystems.at(0).probe.options).argv.at(1), "t0k3n");
  for (const std::string value : {"t0k3n", "pw1", "s3", "k3y", "/run/creds.json", "pgpw"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
}

TEST(config_secrets, hosts_ports_and_paths_from_variables_stay_visible) {
  const auto cfg = parse_config(R"({"server": {"static_dir": "${WWW_DIR}"}, "subsystems": {
      "redis": {"probe": {"type": "redis", "host": "${REDIS_HOST}"}},
      "api": {"probe": {"type": "http", "url": "http://${API_HOST}:${API_PORT}/health"}},
      "tcp": {"probe": {"type": "tcp", "host": "${TCP_HOST:-fallback}", "port": 7}}}})",
                                env_of({{"REDIS_HOST", "redis.internal"},
                                        {"API_HOST", "10.1.2.3"},
                                        {"API_PORT", "8443"},
                                        {"WWW_DIR", "/srv/www"},
                                        {"TCP_HOST", "db1"}}));
  EXPECT_EQ(std::get<redis_probe>(cfg.subsystems.at(0).probe.options).host, "redis.internal");
  EXPECT_TRUE(cfg.secrets.empty());
  EXPECT_TRUE(shown(cfg, "connected to redis.internal:6379"));
  EXPECT_TRUE(shown(cfg, "connect 10.1.2.3:8443: connection refused"));
  EXPECT_TRUE(shown(cfg, "/srv/www"));
  EXPECT_TRUE(shown(cfg, "db1"));
}

TEST(config_secrets, header_values_are_secrets) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "http", "url": "http://h/",
      "headers": {"Authorization": "Bearer ${BEARER}", "X-Api-Key": "k1", "Cookie": "sid=c00k",
                  "X-Tenant-Id": "tenant-0042-blue"}},
      "heal": {"actions": [{"type": "http", "url": "http://h/refresh", "headers": {"X-Auth": "act"}}]}}}})",
                                env_of({{"BEARER", "sekrit"}}));
  EXPECT_EQ(std::get<http_probe>(cfg.subsystems.at(0).probe.options).headers.at("Authorization"), "Bearer sekrit");
  EXPECT_EQ(cfg.secrets.redact("Bearer sekrit"), "***");
  // The credential after the scheme too, from a variable whose name says nothing.
  for (const std::string value : {"sekrit", "k1", "sid=c00k", "tenant-0042-blue", "act"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
}

TEST(config_secrets, short_and_content_negotiation_header_values_do_not_blank_other_text) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "websocket", "url": "ws://h/",
      "headers": {"Accept": "application/json", "User-Agent": "platform-healthd/0.1", "X-Env": "prod"}}}}})",
                                no_env);
  EXPECT_TRUE(cfg.secrets.empty());
  EXPECT_TRUE(shown(cfg, "content-type application/json, env prod"));
}

TEST(config_secrets, url_userinfo_is_a_secret) {
  const auto cfg = parse_config(R"({"subsystems": {
      "a": {"probe": {"type": "http", "url": "https://svc:pa%24w0rd@h/health"}},
      "b": {"probe": {"type": "websocket", "url": "wss://ghp_tok@h/ws"}},
      "c": {"probe": {"type": "tcp", "host": "h", "port": 1},
            "heal": {"actions": [{"type": "http", "url": "http://ops:act-pw@h/restart"}]}}}})",
                                no_env);
  for (const std::string value : {"pa$w0rd", "pa%24w0rd", "svc:pa%24w0rd", "ghp_tok", "act-pw"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
  EXPECT_TRUE(shown(cfg, "user svc"));  // like a conninfo's user, the name alone is not a secret
}

TEST(config_secrets, url_query_values_are_secrets_by_name_or_length) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "http",
      "url": "http://h/x?api_key=abc&page=1&format=json&cursor=c0ffee-1234-5678&sig=a%2Fb%2Fc%2Fd%2Fe#top"}}}})",
                                no_env);
  for (const std::string value : {"abc", "c0ffee-1234-5678", "a/b/c/d/e", "a%2Fb%2Fc%2Fd%2Fe"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
  EXPECT_TRUE(shown(cfg, "page 1 of 10 as json"));
}

TEST(config_secrets, exec_env_values_are_secrets_by_name_or_length) {
  const auto cfg = parse_config(R"({"subsystems": {"s": {"probe": {"type": "exec", "argv": ["/bin/check"],
      "env": {"PGPASSWORD": "pw", "LANG": "C", "CHECK_CONFIG": "/etc/check/check.conf"}},
      "heal": {"actions": [{"type": "exec", "argv": ["/bin/fix"], "env": {"API_KEY": "k"}}]}}}})",
                                no_env);
  for (const std::string value : {"pw", "/etc/check/check.conf", "k"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
  EXPECT_TRUE(shown(cfg, "Connection refused (LANG=C)"));
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
  for (const std::string value : {"pr0be-pw", "action-pw", "maint pw"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
}

TEST(config_secrets, values_read_through_env_keys_are_secrets) {
  const auto cfg = parse_config(R"({"server": {"admin_token_env": "ADMIN"},
      "subsystems": {"r": {"probe": {"type": "redis", "password_env": "RPW"},
                           "heal": {"actions": [{"type": "redis", "argv": ["PING"],
                                                 "target": {"host": "h", "password_env": "RPW2"}}]}}}})",
                                env_of({{"ADMIN", "adm1n"}, {"RPW", "redis-pw"}, {"RPW2", "other-pw"}}));
  EXPECT_EQ(cfg.secrets.size(), 3U);
  EXPECT_EQ(cfg.secrets.redact("adm1n redis-pw other-pw"), "*** *** ***");
  for (const std::string value : {"adm1n", "redis-pw", "other-pw"}) {
    SCOPED_TRACE(value);
    EXPECT_TRUE(hidden(cfg, value));
  }
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
