#include "healthd/probes/checks.hpp"

#include <gtest/gtest.h>

namespace healthd::probes {
namespace {

using config::status_range;

TEST(expect_status, range_list_and_single_codes_match) {
  const std::vector<status_range> ranges{{200, 299}, {304, 304}};
  EXPECT_TRUE(status_matches(200, ranges));
  EXPECT_TRUE(status_matches(299, ranges));
  EXPECT_TRUE(status_matches(304, ranges));
  EXPECT_FALSE(status_matches(301, ranges));
  EXPECT_FALSE(status_matches(503, ranges));
  EXPECT_FALSE(status_matches(200, {}));
  EXPECT_EQ(describe(ranges), "200-299, 304");
}

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

TEST(parse_url, splits_scheme_host_port_and_target) {
  const auto u = parse_url("https://splunk.example:8089/services/server/health/splunkd?output_mode=json");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "splunk.example");
  EXPECT_EQ(u->port, 8089);
  EXPECT_EQ(u->target, "/services/server/health/splunkd?output_mode=json");
  EXPECT_EQ(u->host_header(), "splunk.example:8089");
  const auto v6 = parse_url("ws://[::1]/feed");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  EXPECT_EQ(v6->host_header(), "[::1]");
  EXPECT_EQ(parse_url("http://h?x=1")->target, "/?x=1");
  EXPECT_EQ(parse_url("HTTPS://h")->port, 443);
}

TEST(parse_url, rejects_what_it_cannot_use) {
  EXPECT_FALSE(parse_url("ftp://h/"));
  EXPECT_FALSE(parse_url("h:80"));
  EXPECT_FALSE(parse_url("http://:80/"));
  EXPECT_FALSE(parse_url("http://h:99999/"));
  EXPECT_FALSE(parse_url("http://user:pw@h/"));
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

TEST(capped_buffer, keeps_the_first_bytes_and_counts_all) {
  capped_buffer buffer(4096);
  const std::string chunk(1000, 'x');
  for (int i = 0; i < 10; ++i)
    buffer.append(chunk);
  EXPECT_EQ(buffer.text().size(), 4096U);
  EXPECT_EQ(buffer.total(), 10000U);
  EXPECT_TRUE(buffer.truncated());
  capped_buffer small(10);
  small.append("abc");
  EXPECT_FALSE(small.truncated());
  EXPECT_EQ(small.text(), "abc");
}

TEST(capped_buffer, text_is_valid_utf8_cut_before_a_character_the_limit_would_split) {
  struct row {
    const char* name;
    std::vector<std::string> chunks;
    std::string text;
    bool truncated;
  };
  const std::vector<row> table = {
      {"euro_across_the_limit", {"abcd\xE2", "\x82\xAC tail"}, "abcd", true},
      {"euro_ends_at_the_limit", {"abc", "\xE2\x82\xAC"}, "abc\xE2\x82\xAC", false},
      {"four_byte_across_the_limit", {"abcde\xF0\x9F\x98\x80"}, "abcde", true},
      {"invalid_bytes_replaced", {"a\xFF"}, "a\xEF\xBF\xBD", false},
      {"truncated_sequence_at_the_end_of_output", {"ab\xC3"}, "ab\xEF\xBF\xBD", false},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.name);
    capped_buffer buffer(6);
    for (const auto& chunk : r.chunks)
      buffer.append(chunk);
    EXPECT_EQ(buffer.text(), r.text);
    EXPECT_EQ(buffer.truncated(), r.truncated);
  }
}

TEST(conninfo, connect_timeout_is_added_one_second_past_the_deadline_with_a_two_second_floor) {
  EXPECT_EQ(with_connect_timeout("host=db dbname=x", 500), "host=db dbname=x connect_timeout=2");
  EXPECT_EQ(with_connect_timeout("host=db", 1500), "host=db connect_timeout=3");
  EXPECT_EQ(with_connect_timeout("host=db", 2500), "host=db connect_timeout=4");
  EXPECT_EQ(with_connect_timeout("postgresql://u@db/x", 5000), "postgresql://u@db/x?connect_timeout=6");
  EXPECT_EQ(with_connect_timeout("postgresql://u@db/x?sslmode=disable", 1000),
            "postgresql://u@db/x?sslmode=disable&connect_timeout=2");
  EXPECT_EQ(with_connect_timeout("host=db connect_timeout=7", 1000), "host=db connect_timeout=7");
}

TEST(conninfo, libpq_errors_are_shortened) {
  EXPECT_EQ(short_libpq_error("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
                              "server running on that host and accepting TCP/IP connections?\n"),
            "Connection refused");
  EXPECT_EQ(short_libpq_error("ERROR:  relation \"x\" does not exist\nLINE 1: ..."), "relation \"x\" does not exist");
}

TEST(redis_info, fields_are_parsed) {
  const auto fields = parse_redis_info("# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nused_memory:1024\r\n");
  EXPECT_EQ(fields.at("redis_version"), "7.0.15");
  EXPECT_EQ(fields.at("used_memory"), "1024");
  EXPECT_EQ(fields.size(), 2U);
}

TEST(redaction, every_string_and_key_in_details_is_redacted) {
  secret_set secrets;
  secrets.add("hunter2");
  const nlohmann::json details = {{"a", "pw=hunter2"}, {"hunter2", 1}, {"list", {"x", "hunter2"}}, {"n", 5}};
  const auto out = sanitize_json(details, secrets);
  EXPECT_EQ(out.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(out["a"], "pw=***");
  EXPECT_EQ(out["n"], 5);
}

TEST(redaction, details_are_made_valid_utf8_with_or_without_secrets) {
  const nlohmann::json details = {{"stderr", "bad \xFF"}, {"key \xC0", {"x\xE2\x82"}}};
  for (const bool with_secret : {false, true}) {
    secret_set secrets;
    if (with_secret) secrets.add("hunter2");
    const auto out = sanitize_json(details, secrets);
    EXPECT_EQ(out["stderr"], "bad \uFFFD");
    EXPECT_EQ(out["key \uFFFD"][0], "x\uFFFD");
  }
}

}  // namespace
}  // namespace healthd::probes
