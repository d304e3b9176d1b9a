// The shipped config/platform-healthd.json and docs/configuration.md, checked against the loader and its schema.

#include "healthd/config/loader.hpp"
#include "healthd/config/schema.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace healthd::config {
namespace {

using testing::env_of;
using testing::no_env;
using testing::source_path;

daemon_config shipped(const env_lookup& env = no_env) {
  return load_config_file(source_path("config/platform-healthd.json"), env);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(shipped_config, loads_without_any_environment_variable) { EXPECT_NO_THROW((void)shipped()); }

TEST(shipped_config, has_the_eight_subsystems_in_order) {
  const auto cfg = shipped();
  std::vector<std::string> names;
  for (const auto& s : cfg.subsystems)
    names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"database", "redis", "siem_sentinel", "siem_splunk", "threat_intel",
                                             "advisory_feeds", "ml_pipeline", "websocket"}));
}

TEST(shipped_config, has_the_seven_breakers_in_order) {
  const auto cfg = shipped();
  std::vector<std::string> names;
  for (const auto& b : cfg.breakers)
    names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"database", "redis", "siem_sentinel", "siem_splunk", "threat_intel",
                                             "advisory_feeds", "ml_pipeline"}));
}

TEST(shipped_config, each_subsystem_but_websocket_uses_its_own_breaker) {
  for (const auto& s : shipped().subsystems) {
    SCOPED_TRACE(s.name);
    if (s.name == "websocket") {
      EXPECT_FALSE(s.breaker);
    } else {
      EXPECT_EQ(s.breaker, s.name);
    }
  }
}

TEST(shipped_config, only_the_database_is_critical) {
  for (const auto& s : shipped().subsystems)
    EXPECT_EQ(s.critical, s.name == "database") << s.name;
}

TEST(shipped_config, probes_and_loops_fit_each_subsystem) {
  const auto cfg = shipped();
  const auto expect = [&](std::string_view name, std::string_view type, std::string_view loop) {
    const auto* s = cfg.find_subsystem(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->probe.type, type) << name;
    EXPECT_EQ(s->loop, loop) << name;
  };
  expect("database", "postgres", "core");
  expect("redis", "redis", "core");
  expect("websocket", "websocket", "core");
  expect("siem_sentinel", "http", "integrations");
  expect("siem_splunk", "http", "integrations");
  expect("threat_intel", "http", "integrations");
  expect("advisory_feeds", "http", "pipelines");
  expect("ml_pipeline", "http", "pipelines");
}

TEST(shipped_config, splunk_and_model_server_use_json_rules) {
  const auto cfg = shipped();
  const auto& splunk = std::get<http_probe>(cfg.find_subsystem("siem_splunk")->probe.options);
  ASSERT_TRUE(splunk.rule);
  EXPECT_EQ(splunk.rule->pointer, "/entry/0/content/health");
  EXPECT_EQ(splunk.rule->values.at("green"), probe_status::healthy);
  EXPECT_EQ(splunk.rule->values.at("yellow"), probe_status::degraded);
  EXPECT_EQ(splunk.rule->values.at("red"), probe_status::critical);
  EXPECT_TRUE(splunk.url.ends_with("/services/server/health/splunkd?output_mode=json"));
  const auto& model = std::get<http_probe>(cfg.find_subsystem("ml_pipeline")->probe.options);
  ASSERT_TRUE(model.rule);
  EXPECT_EQ(model.rule->values.at("AVAILABLE"), probe_status::healthy);
  EXPECT_TRUE(std::get<http_probe>(cfg.find_subsystem("threat_intel")->probe.options).url.ends_with("/taxii2/"));
}

TEST(shipped_config, every_target_is_local) {
  for (const auto& s : shipped().subsystems) {
    SCOPED_TRACE(s.name);
    std::visit(
        [](const auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, http_probe> || std::is_same_v<T, websocket_probe>) {
            EXPECT_NE(p.url.find("://127.0.0.1:"), std::string::npos) << p.url;
          } else if constexpr (std::is_same_v<T, redis_probe>) {
            EXPECT_EQ(p.host, "127.0.0.1");
          } else if constexpr (std::is_same_v<T, postgres_probe>) {
            EXPECT_NE(p.conninfo.find("host=127.0.0.1"), std::string::npos);
          }
        },
        s.probe.options);
  }
}

TEST(shipped_config, heal_ladders_start_gently_and_end_with_a_restart) {
  for (const auto& s : shipped().subsystems) {
    SCOPED_TRACE(s.name);
    ASSERT_FALSE(s.heal.actions.empty());
    const auto& last = s.heal.actions.back();
    ASSERT_EQ(last.type, "exec");
    const auto& argv = std::get<exec_action>(last.options).argv;
    ASSERT_GE(argv.size(), 3U);
    EXPECT_EQ(argv[0], "systemctl");
    EXPECT_EQ(argv[1], "restart");
    if (s.heal.actions.size() > 1) {
      EXPECT_NE(s.heal.actions.front().type, "exec");
    }
  }
}

TEST(shipped_config, sentinel_token_comes_from_the_environment_as_a_secret) {
  const auto cfg = shipped(env_of({{"HEALTHD_SENTINEL_TOKEN", "live-token"}}));
  const auto& headers = std::get<http_probe>(cfg.find_subsystem("siem_sentinel")->probe.options).headers;
  EXPECT_EQ(headers.at("Authorization"), "Bearer live-token");
  EXPECT_EQ(cfg.secrets.redact("Bearer live-token"), "***");
  EXPECT_EQ(cfg.secrets.redact("live-token"), "***");
  // Without the variable the demo default is the Authorization header's credential; the Accept headers and short
  // query values stay visible.
  EXPECT_EQ(shipped().secrets.redact("demo-token application/json json"), "*** application/json json");
}

TEST(shipped_config, maintenance_tasks_target_database_and_redis) {
  const auto cfg = shipped();
  ASSERT_EQ(cfg.maintenance.size(), 2U);
  EXPECT_EQ(cfg.maintenance[0].subsystem, "database");
  EXPECT_EQ(cfg.maintenance[0].action.type, "sql");
  EXPECT_EQ(cfg.maintenance[1].subsystem, "redis");
  EXPECT_EQ(cfg.maintenance[1].action.type, "redis");
}

// ---- the schema table ----------------------------------------------------------------------------------------

void collect_keys(const nlohmann::json& value, std::set<std::string>& keys) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      keys.insert(key);
      collect_keys(child, keys);
    }
  } else if (value.is_array()) {
    for (const auto& child : value)
      collect_keys(child, keys);
  }
}

// The reader throws std::logic_error when it and the schema table disagree about an object it reads; this fixture
// makes it read every object kind with every key present.
TEST(config_schema, every_key_of_the_schema_is_read) {
  const auto path = source_path("tests/unit/config/data/every_key.json");
  std::set<std::string> present;
  collect_keys(nlohmann::json::parse(read_text(path), nullptr, true, true), present);
  for (const auto& object : schema::objects())
    for (const auto key : object.keys)
      EXPECT_TRUE(present.contains(std::string(key))) << object.id << "." << key << " missing from every_key.json";
  const auto cfg = load_config_file(path, no_env);
  EXPECT_EQ(cfg.subsystems.size(), 7U);
  EXPECT_EQ(cfg.server.listen, "[::1]:9090");
  EXPECT_EQ(cfg.healing.mode, healing_mode::off);
  EXPECT_EQ(cfg.breakers.at(0).slow_call_ms, 250);
}

TEST(config_schema, probe_and_action_types_have_schema_objects) {
  for (const auto type : schema::probe_types())
    EXPECT_NO_THROW((void)schema::object("probe." + std::string(type))) << type;
  for (const auto type : schema::action_types())
    EXPECT_NO_THROW((void)schema::object("action." + std::string(type))) << type;
  EXPECT_THROW((void)schema::object("probe.mysql"), std::logic_error);
}

// ---- docs/configuration.md -----------------------------------------------------------------------------------

// The text from `<!-- schema: id -->` to the next such marker.
std::string doc_section(const std::string& doc, std::string_view id) {
  const auto marker = "<!-- schema: " + std::string(id) + " -->";
  const auto start = doc.find(marker);
  if (start == std::string::npos) return {};
  const auto end = doc.find("<!-- schema: ", start + marker.size());
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(configuration_docs, document_every_key_of_every_schema_object) {
  const auto doc = read_text(source_path("docs/configuration.md"));
  ASSERT_FALSE(doc.empty());
  for (const auto& object : schema::objects()) {
    SCOPED_TRACE(object.id);
    const auto section = doc_section(doc, object.id);
    ASSERT_FALSE(section.empty()) << "docs/configuration.md lacks <!-- schema: " << object.id << " -->";
    for (const auto key : object.keys) {
      const auto path = object.path.empty() ? std::string(key) : std::string(object.path) + "." + std::string(key);
      EXPECT_NE(section.find("`" + path + "`"), std::string::npos) << "undocumented key `" << path << "`";
    }
  }
}

TEST(configuration_docs, document_no_key_the_loader_rejects) {
  const auto doc = read_text(source_path("docs/configuration.md"));
  for (const auto& object : schema::objects()) {
    if (object.path.empty()) continue;
    SCOPED_TRACE(object.id);
    const auto section = doc_section(doc, object.id);
    // `<path>.<key>` in the first column of a table row: the key this row documents.
    const auto row_start = "| `" + std::string(object.path) + ".";
    const std::set<std::string_view> keys(object.keys.begin(), object.keys.end());
    std::istringstream lines(section);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(row_start)) continue;
      const auto key = line.substr(row_start.size(), line.find('`', row_start.size()) - row_start.size());
      EXPECT_TRUE(keys.contains(key)) << "documented but not accepted: " << line;
    }
  }
}

TEST(configuration_docs, document_the_name_keyed_objects) {
  const auto doc = read_text(source_path("docs/configuration.md"));
  for (const auto* path : {"`loops.<name>`", "`breakers.<name>`", "`subsystems.<name>`",
                           "`subsystems.<name>.probe.json_rule.values`", "`maintenance[i].action`"})
    EXPECT_NE(doc.find(path), std::string::npos) << path;
}

TEST(configuration_docs, error_example_matches_the_loader) {
  // The doc quotes this error; the fixture reproduces it.
  const auto doc = read_text(source_path("docs/configuration.md"));
  const std::string expected = R"(subsystems.redis.breaker: unknown breaker "rediss" (known: database, redis))";
  EXPECT_NE(doc.find(expected), std::string::npos);
  try {
    (void)load_config_file(source_path("tests/unit/config/data/unknown_breaker.json"), no_env);
    FAIL() << "no error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.what(), expected);
  }
}

}  // namespace
}  // namespace healthd::config
