#include "healthd/io/libpq.hpp"
#include "healthd/io/text.hpp"
#include "healthd/io/url.hpp"

#include <gtest/gtest.h>

namespace healthd::io {
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
  EXPECT_EQ(describe_statuses(ranges), "200-299, 304");
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

}  // namespace
}  // namespace healthd::io
