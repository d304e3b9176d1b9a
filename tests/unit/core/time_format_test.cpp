#include "healthd/core/time_format.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

using namespace std::chrono;

TEST(time_format, formats_utc_with_milliseconds) {
  const wall_time t = sys_days{year{2026} / 11 / 28} + hours{7} + minutes{17} + seconds{22} + milliseconds{5};
  EXPECT_EQ(format_rfc3339_ms(t), "2026-11-28T07:17:22.005Z");
}

TEST(time_format, parse_round_trips_format) {
  const wall_time t = sys_days{year{1999} / 12 / 31} + hours{23} + minutes{59} + seconds{59} + milliseconds{999};
  const auto parsed = parse_rfc3339(format_rfc3339_ms(t));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, t);
}

TEST(time_format, parse_accepts_whole_seconds) {
  const auto parsed = parse_rfc3339("2026-01-02T03:04:05Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(format_rfc3339_ms(*parsed), "2026-01-02T03:04:05.000Z");
}

TEST(time_format, parse_rejects_malformed_text) {
  for (const char* bad : {"", "2026-01-02", "2026-01-02T03:04:05", "2026-13-02T03:04:05Z", "2026-02-30T03:04:05Z",
                          "2026-01-02T03:04:05.12Z", "2026-01-02 03:04:05Z", "x026-01-02T03:04:05Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace healthd
