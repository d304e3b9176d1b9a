#include "healthd/api/metrics.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>

namespace healthd::api {
namespace {

// The checks `promtool check metrics` makes (Prometheus promlint) plus text-format well-formedness, since promtool
// itself is not installed here. Returns one line per problem; empty when the exposition is clean.
std::vector<std::string> lint(const std::string& text) {
  std::vector<std::string> problems;
  const auto report = [&](std::string_view name, std::string_view what, std::string_view detail = {}) {
    std::string problem(name);
    problem.append(": ").append(what).append(detail);
    problems.push_back(std::move(problem));
  };
  const std::regex name_re("^[a-z_][a-z0-9_]*$");
  const std::regex label_re("^[a-z_][a-z0-9_]*$");
  const std::set<std::string> types{"counter", "gauge", "histogram", "summary", "untyped"};
  const std::set<std::string> abbreviations{"s",  "ms", "us", "ns", "sec", "b", "kb",
                                            "mb", "gb", "tb", "pb", "m",   "h", "d"};
  const std::vector<std::string> prefixes{"pico", "nano", "micro", "milli", "centi", "deci", "kilo", "mega", "giga"};
  const std::vector<std::string> units{"seconds", "bytes", "meters", "grams", "volts", "amperes", "joules"};
  std::map<std::string, std::string> type_of;
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose samples ended
  std::set<std::string> series;
  std::string current;

  const auto check_name = [&](const std::string& name, const std::string& type) {
    if (!std::regex_match(name, name_re)) report(name, "not snake_case");
    const bool counter = type == "counter";
    if (counter && !name.ends_with("_total")) report(name, "counter without _total suffix");
    if (!counter && name.ends_with("_total")) report(name, "non-counter with _total suffix");
    for (const char* suffix : {"_count", "_sum", "_bucket"}) {
      if (type != "histogram" && type != "summary" && name.ends_with(suffix)) {
        report(name, "reserved suffix ", suffix);
      }
    }
    if (name.find("gauge") != std::string::npos || name.find("counter") != std::string::npos) {
      report(name, "metric type in the name");
    }
    std::stringstream parts(name);
    for (std::string part; std::getline(parts, part, '_');) {
      if (abbreviations.contains(part)) report(name, "abbreviated unit ", part);
      for (const auto& p : prefixes) {
        for (const auto& u : units) {
          if (part.starts_with(p) && std::string_view(part).substr(p.size()) == u) report(name, "non-base unit ", part);
        }
      }
    }
  };

  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool help = line[2] == 'H';
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      const auto name = rest.substr(0, space);
      const auto value = space == std::string::npos ? std::string{} : rest.substr(space + 1);
      if (finished.contains(name) || name == current) report(name, "HELP/TYPE after its samples");
      if (help) {
        if (value.empty()) report(name, "empty HELP");
        if (!helped.insert(name).second) report(name, "second HELP");
      } else {
        if (!types.contains(value)) report(name, "unknown TYPE ", value);
        if (!helped.contains(name)) report(name, "TYPE before HELP");
        if (!type_of.emplace(name, value).second) report(name, "second TYPE");
        check_name(name, value);
      }
      continue;
    }
    if (line.empty() || line.front() == '#') {
      report("unexpected line", line);
      continue;
    }
    const auto name_end = line.find_first_of("{ ");
    const auto name = line.substr(0, name_end);
    if (!type_of.contains(name)) report(name, "sample without HELP and TYPE");
    if (name != current) {
      if (!current.empty()) finished.insert(current);
      if (finished.contains(name)) report(name, "samples not contiguous");
      current = name;
    }
    std::size_t pos = name_end;
    std::string labelset;
    std::set<std::string> label_names;
    if (line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        const auto eq = line.find('=', pos);
        const auto label = line.substr(pos, eq - pos);
        if (!std::regex_match(label, label_re) || label.starts_with("__")) {
          report(name, "bad label name ", label);
        }
        if (label == "le" || label == "quantile") report(name, "reserved label ", label);
        if (!label_names.insert(label).second) report(name, "repeated label ", label);
        if (eq == std::string::npos || line[eq + 1] != '"') {
          report(name, "unquoted label value");
          break;
        }
        pos = eq + 2;
        std::string value;
        for (; pos < line.size() && line[pos] != '"'; ++pos) {
          if (line[pos] == '\\') {
            const char next = line[++pos];
            if (next != '\\' && next != '"' && next != 'n') report(name, "bad escape");
          }
          value.push_back(line[pos]);
        }
        labelset.append(label).append("=").append(value).append(",");
        ++pos;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      report(name, "no value");
      continue;
    }
    const auto value_text = line.substr(pos + 1);
    double value = 0;
    const auto [end, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (ec != std::errc{} || end != value_text.data() + value_text.size()) {
      report(name, "bad value ", value_text);
    }
    if (!series.insert(std::string(name).append("{").append(labelset).append("}")).second)
      report(name, "duplicate series");
  }
  for (const auto& [name, type] : type_of) {
    (void)type;
    if (!helped.contains(name)) report(name, "no HELP");
  }
  return problems;
}

struct metrics_fixture {
  metrics_fixture() {
    view.status = health_status::degraded;
    view.started_at = wall_time{std::chrono::seconds{1'800'000'000}};
    subsystem_view db;
    db.name = "database";
    db.status = health_status::healthy;
    db.latency_ms = 2.5;
    db.last_check = wall_time{std::chrono::seconds{1'800'000'100}};
    db.last_hour = {120, 117, 0.975, 2.0, 12.5};
    subsystem_view odd;
    odd.name = "we\"ird\\name\n";
    odd.status = health_status::pending;
    view.subsystems = {db, odd};
    breaker_snapshot b;
    b.name = "database";
    b.state = breaker_state::half_open;
    b.successes = 10;
    b.failures = 2;
    b.rejected = 4;
    b.times_opened = 1;
    b.current_recovery_timeout_s = 120;
    breakers = {b};
    heals = {{"database", heal_trigger::manual, heal_result::success, 3},
             {"database", heal_trigger::automatic, heal_result::failure, 1}};
    http.requests[{"/api/v1/platform/health", 200}] = 7;
    http.requests[{"/api/v1/platform/health", 304}] = 5;
    http.open_connections = 2;
    http.connections_total = 9;
  }

  [[nodiscard]] std::string render() const { return render_metrics({view, breakers, heals, http, daemon, "0.1.0"}); }

  platform_view view;
  std::vector<breaker_snapshot> breakers;
  std::vector<heal_count> heals;
  http_counters http;
  daemon_counters daemon{.probes_run = 40,
                         .probes_rejected = 6,
                         .watch_wakeups = 2,
                         .audit_write_failures = 1,
                         .reloads_applied = 3,
                         .reloads_rejected = 1,
                         .last_reload_ok = false};
};

TEST(metrics, exposition_passes_the_promtool_rules) {
  const auto text = metrics_fixture{}.render();
  const auto problems = lint(text);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << text;
}

TEST(metrics, empty_platform_still_passes_the_rules) {
  const platform_view view;
  const std::vector<breaker_snapshot> breakers;
  const std::vector<heal_count> heals;
  const http_counters http;
  const daemon_counters daemon;
  const auto text = render_metrics({view, breakers, heals, http, daemon, "0.1.0"});
  EXPECT_TRUE(lint(text).empty()) << text;
}

TEST(metrics, linter_catches_rule_violations) {
  // The linter must be able to fail, or the test above proves nothing.
  EXPECT_FALSE(lint("# HELP x_requests requests\n# TYPE x_requests counter\nx_requests 1\n").empty());
  EXPECT_FALSE(lint("# HELP x_latency_ms latency\n# TYPE x_latency_ms gauge\nx_latency_ms 1\n").empty());
  EXPECT_FALSE(lint("# HELP x_milliseconds t\n# TYPE x_milliseconds gauge\nx_milliseconds 1\n").empty());
  EXPECT_FALSE(lint("# TYPE x gauge\nx 1\n").empty());
  EXPECT_FALSE(lint("x 1\n").empty());
  EXPECT_FALSE(lint("# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n").empty());
  EXPECT_FALSE(lint("# HELP xCamel h\n# TYPE xCamel gauge\nxCamel 1\n").empty());
  EXPECT_TRUE(lint("# HELP x_seconds h\n# TYPE x_seconds gauge\nx_seconds{a=\"q\\\"\"} 1.5\n").empty());
}

TEST(metrics, status_families_mark_exactly_the_current_state) {
  const auto text = metrics_fixture{}.render();
  EXPECT_NE(text.find("healthd_platform_status{status=\"degraded\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_platform_status{status=\"healthy\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_subsystem_status{subsystem=\"database\",status=\"healthy\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_breaker_state{breaker=\"database\",state=\"half_open\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_breaker_state{breaker=\"database\",state=\"open\"} 0\n"), std::string::npos);
}

TEST(metrics, values_use_base_units_and_counters) {
  const auto text = metrics_fixture{}.render();
  EXPECT_NE(text.find("healthd_subsystem_probe_latency_seconds{subsystem=\"database\"} 0.0025\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_start_time_seconds 1800000000\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_breaker_calls_total{breaker=\"database\",outcome=\"rejected\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_breaker_recovery_timeout_seconds{breaker=\"database\"} 120\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_heals_total{subsystem=\"database\",trigger=\"manual\",result=\"success\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("healthd_heals_total{subsystem=\"database\",trigger=\"auto\",result=\"failure\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("healthd_http_requests_total{route=\"/api/v1/platform/health\",code=\"304\"} 5\n"),
            std::string::npos);
  EXPECT_NE(text.find("healthd_http_connections 2\n"), std::string::npos);
}

TEST(metrics, last_hour_availability_and_percentiles_are_exposed) {
  const auto text = metrics_fixture{}.render();
  EXPECT_NE(text.find("healthd_subsystem_availability_ratio{subsystem=\"database\"} 0.975\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_subsystem_probe_latency_p50_seconds{subsystem=\"database\"} 0.002\n"),
            std::string::npos);
  EXPECT_NE(text.find("healthd_subsystem_probe_latency_p95_seconds{subsystem=\"database\"} 0.0125\n"),
            std::string::npos);
}

TEST(metrics, daemon_counters_are_exposed) {
  const auto text = metrics_fixture{}.render();
  EXPECT_NE(text.find("healthd_probes_total 40\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_probes_rejected_total 6\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_connection_watch_wakeups_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_audit_write_failures_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_config_reloads_total{result=\"applied\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_config_reloads_total{result=\"rejected\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("healthd_config_last_reload_successful 0\n"), std::string::npos);
}

TEST(metrics, pending_subsystem_has_no_latency_sample) {
  const auto text = metrics_fixture{}.render();
  EXPECT_EQ(text.find("healthd_subsystem_probe_latency_seconds{subsystem=\"we"), std::string::npos);
}

TEST(metrics, label_values_are_escaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  const auto text = metrics_fixture{}.render();
  EXPECT_NE(text.find("subsystem=\"we\\\"ird\\\\name\\n\""), std::string::npos);
}

TEST(http_metrics, counts_requests_and_connections) {
  http_metrics m;
  m.record_request("/livez", 200);
  m.record_request("/livez", 200);
  m.record_request("unmatched", 404);
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  m.connection_rejected();
  m.accept_backoff();
  const auto c = m.read();
  EXPECT_EQ(c.requests.at({"/livez", 200}), 2U);
  EXPECT_EQ(c.requests.at({"unmatched", 404}), 1U);
  EXPECT_EQ(c.open_connections, 1);
  EXPECT_EQ(c.connections_total, 2U);
  EXPECT_EQ(c.connections_rejected, 1U);
  EXPECT_EQ(c.accept_backoffs, 1U);
}

}  // namespace
}  // namespace healthd::api
