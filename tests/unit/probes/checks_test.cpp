#include "healthd/probes/file_checks.hpp"
#include "healthd/probes/http_checks.hpp"
#include "healthd/probes/nagios.hpp"
#include "healthd/probes/redis_info.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace healthd::probes {
namespace {

config::json_rule splunk_rule() {
  config::json_rule rule;
  rule.pointer = "/entry/0/content/health";
  rule.values = {{"green", probe_status::healthy}, {"yellow", probe_status::degraded}, {"red", probe_status::critical}};
  return rule;
}

TEST(json_rule, maps_splunk_health_colours_to_statuses) {
  const auto rule = splunk_rule();
  const auto body = [](const std::string& colour) {
    return R"({"entry":[{"name":"splunkd","content":{"health":")" + colour + R"("}}]})";
  };
  EXPECT_EQ(evaluate_json_body(rule, body("green")).status, probe_status::healthy);
  EXPECT_EQ(evaluate_json_body(rule, body("yellow")).status, probe_status::degraded);
  const auto red = evaluate_json_body(rule, body("red"));
  EXPECT_EQ(red.status, probe_status::critical);
  EXPECT_EQ(red.message, "/entry/0/content/health is red");
  EXPECT_EQ(red.value, "red");
}

TEST(json_rule, unknown_value_gets_otherwise) {
  auto rule = splunk_rule();
  rule.otherwise = probe_status::degraded;
  const auto verdict = evaluate_json_body(rule, R"({"entry":[{"content":{"health":"purple"}}]})");
  EXPECT_EQ(verdict.status, probe_status::degraded);
  EXPECT_EQ(verdict.message, "/entry/0/content/health is purple");
}

TEST(json_rule, missing_pointer_and_non_json_are_reported) {
  const auto rule = splunk_rule();
  const auto missing = evaluate_json_body(rule, R"({"entry":[]})");
  EXPECT_EQ(missing.status, probe_status::critical);
  EXPECT_EQ(missing.message, "/entry/0/content/health not found");
  const auto garbage = evaluate_json_body(rule, "<html>");
  EXPECT_EQ(garbage.status, probe_status::critical);
  EXPECT_EQ(garbage.message, "body is not JSON");
}

TEST(json_rule, non_string_values_compare_as_json_text) {
  config::json_rule rule;
  rule.pointer = "/ready";
  rule.values = {{"true", probe_status::healthy}};
  EXPECT_EQ(evaluate_json_body(rule, R"({"ready":true})").status, probe_status::healthy);
  EXPECT_EQ(evaluate_json_body(rule, R"({"ready":false})").status, probe_status::critical);
  rule.pointer = "/model_version_status/0/state";
  rule.values = {{"AVAILABLE", probe_status::healthy}};
  EXPECT_EQ(evaluate_json_body(rule, R"({"model_version_status":[{"state":"AVAILABLE"}]})").status,
            probe_status::healthy);
}

TEST(nagios, exit_codes_map_to_statuses) {
  EXPECT_EQ(nagios_status(0), probe_status::healthy);
  EXPECT_EQ(nagios_status(1), probe_status::degraded);
  EXPECT_EQ(nagios_status(2), probe_status::critical);
  EXPECT_EQ(nagios_status(3), probe_status::critical);
  EXPECT_EQ(nagios_status(127), probe_status::critical);
}

TEST(nagios, first_line_is_message_and_perfdata_is_parsed) {
  const auto out = parse_nagios_output(
      "DISK OK - free space: / 3326 MB (56%) | /=2643MB;5948;5958;0;5968 'inode ratio'=0.5;;;0;1\n"
      "long text line\n"
      "more text | /boot=68MB;88;93;0;98\n");
  EXPECT_EQ(out.message, "DISK OK - free space: / 3326 MB (56%)");
  ASSERT_TRUE(out.perfdata.contains("/"));
  EXPECT_EQ(out.perfdata["/"]["value"], 2643);
  EXPECT_EQ(out.perfdata["/"]["uom"], "MB");
  EXPECT_EQ(out.perfdata["/"]["warn"], 5948);
  EXPECT_EQ(out.perfdata["/"]["max"], 5968);
  EXPECT_EQ(out.perfdata["inode ratio"]["value"], 0.5);
  EXPECT_FALSE(out.perfdata["inode ratio"].contains("warn"));
  EXPECT_EQ(out.perfdata["/boot"]["value"], 68);
}

TEST(nagios, perfdata_keeps_ranges_and_skips_garbage) {
  const auto perf = parse_perfdata("time=0.002s;@1:2;~:5 junk =3 ok=1c");
  EXPECT_EQ(perf["time"]["value"], 0.002);
  EXPECT_EQ(perf["time"]["uom"], "s");
  EXPECT_EQ(perf["time"]["warn"], "@1:2");
  EXPECT_EQ(perf["time"]["crit"], "~:5");
  EXPECT_EQ(perf["ok"]["uom"], "c");
  EXPECT_EQ(perf.size(), 2U);
}

TEST(nagios, output_without_perfdata_or_text) {
  EXPECT_EQ(parse_nagios_output("").message, "");
  EXPECT_TRUE(parse_nagios_output("OK").perfdata.empty());
}

TEST(redis_info, fields_are_parsed) {
  const auto fields = parse_redis_info("# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nused_memory:1024\r\n");
  EXPECT_EQ(fields.at("redis_version"), "7.0.15");
  EXPECT_EQ(fields.at("used_memory"), "1024");
  EXPECT_EQ(fields.size(), 2U);
}

// judge_http reads the certificate's remaining days against the `now` it is given, never the clock.
io::http_outcome https_answer(int status, wall_time expiry) {
  io::http_response response;
  response.status = status;
  response.certificate_expiry = expiry;
  return {response, ""};
}

TEST(judge_http, certificate_expiry_is_judged_against_the_given_now) {
  config::http_probe options;
  options.expect_status = {{200, 299}};
  options.cert_expiry_warn_days = 14;
  const wall_time now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2};
  const auto expiry = now + std::chrono::days{10};

  const auto warned = judge_http(options, https_answer(200, expiry), now);
  EXPECT_EQ(warned.status, probe_status::degraded);
  EXPECT_EQ(warned.message, "certificate expires in 10 days");
  EXPECT_DOUBLE_EQ(warned.details["certificate_days_left"].get<double>(), 10.0);

  const auto fresh = judge_http(options, https_answer(200, expiry), now - std::chrono::days{30});
  EXPECT_EQ(fresh.status, probe_status::healthy);
  EXPECT_EQ(fresh.message, "HTTP 200");

  const auto expired = judge_http(options, https_answer(200, expiry), expiry + std::chrono::hours{1});
  EXPECT_EQ(expired.status, probe_status::critical);
  EXPECT_EQ(expired.message, "certificate expired");
}

TEST(judge_http, status_body_and_rule_are_checked_before_the_certificate) {
  config::http_probe options;
  options.expect_status = {{200, 200}};
  const wall_time now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2};
  const auto wrong = judge_http(options, https_answer(503, now - std::chrono::days{1}), now);
  EXPECT_EQ(wrong.status, probe_status::critical);
  EXPECT_EQ(wrong.message, "HTTP 503");
  EXPECT_EQ(wrong.details["expected_status"], "200");

  io::http_response response;
  response.status = 200;
  response.body = R"({"entry":[{"content":{"health":"yellow"}}]})";
  options.rule = splunk_rule();
  const auto ruled = judge_http(options, {response, ""}, now);
  EXPECT_EQ(ruled.status, probe_status::degraded);
  EXPECT_EQ(ruled.message, "/entry/0/content/health is yellow");
  EXPECT_EQ(ruled.details["rule_value"], "yellow");

  options.expect_body_contains = "green";
  const auto missing = judge_http(options, {response, ""}, now);
  EXPECT_EQ(missing.status, probe_status::critical);
  EXPECT_EQ(missing.message, "body does not contain \"green\"");

  const auto failed = judge_http(options, {std::nullopt, "connect: Connection refused"}, now);
  EXPECT_EQ(failed.status, probe_status::critical);
  EXPECT_EQ(failed.message, "connect: Connection refused");
}

TEST(judge_file, age_is_measured_from_the_given_now) {
  config::file_probe options;
  options.path = "/var/lib/feed/latest.json";
  options.max_age_s = 600;
  options.min_size_bytes = 10;
  const wall_time now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2};
  file_facts facts{.error = 0, .size = 2048, .modified = now - std::chrono::seconds{300}, .regular = true};

  const auto fresh = judge_file(options, facts, now);
  EXPECT_EQ(fresh.status, probe_status::healthy);
  EXPECT_EQ(fresh.message, "2048 bytes, modified 300 s ago");
  EXPECT_DOUBLE_EQ(fresh.details["age_s"].get<double>(), 300.0);

  const auto stale = judge_file(options, facts, now + std::chrono::seconds{400});
  EXPECT_EQ(stale.status, probe_status::critical);
  EXPECT_EQ(stale.message, "stale: modified 700 s ago (max 600 s)");

  facts.size = 3;
  EXPECT_EQ(judge_file(options, facts, now).message, "too small: 3 bytes < 10");
  facts.regular = false;
  EXPECT_EQ(judge_file(options, facts, now).message, "/var/lib/feed/latest.json is not a regular file");
  facts.error = ENOENT;
  EXPECT_EQ(judge_file(options, facts, now).message, "/var/lib/feed/latest.json: No such file or directory");
}

}  // namespace
}  // namespace healthd::probes
