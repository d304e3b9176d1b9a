// Recovery timeouts: doubling per failed trial, the cap, jitter bounds and the deadlines derived from them.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::seconds_until_attempt;
using test::take_trial;

// Opens the breaker, then fails `trials` trials in a row; returns (timeout without jitter, seconds to the next
// attempt) of each open period.
std::vector<std::pair<double, double>> open_periods(circuit_breaker& b, manual_clock& clock, int trials) {
  std::vector<std::pair<double, double>> out;
  fail_times(b, clock, b.settings().failure_threshold);
  for (int i = 0;; ++i) {
    const auto s = b.snapshot();
    out.emplace_back(s.current_recovery_timeout_s, seconds_until_attempt(s, clock.now()));
    if (i == trials) break;
    take_trial(b, clock);
    b.record_failure(clock.now(), "trial failed");
  }
  return out;
}

TEST(circuit_breaker_backoff, timeout_doubles_per_failed_trial_up_to_cap) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900), pinned(0));
  const auto periods = open_periods(b, clock, 6);
  const std::vector<double> expected{60, 120, 240, 480, 900, 900, 900};
  ASSERT_EQ(periods.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_DOUBLE_EQ(periods[i].first, expected[i]) << "period " << i;
    EXPECT_DOUBLE_EQ(periods[i].second, expected[i]) << "period " << i;
  }
  EXPECT_EQ(b.snapshot().times_opened, 7U);
}

TEST(circuit_breaker_backoff, recovery_above_cap_is_capped_from_first_open) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 1000, 900), pinned(0));
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 900);
  const auto periods = open_periods(b, clock, 1);
  EXPECT_DOUBLE_EQ(periods[0].first, 900);
  EXPECT_DOUBLE_EQ(periods[1].first, 900);
}

TEST(circuit_breaker_backoff, long_failing_episode_stays_at_cap) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 0.5, 3), pinned(0));
  const auto periods = open_periods(b, clock, 200);
  EXPECT_DOUBLE_EQ(periods.back().first, 3);
  EXPECT_DOUBLE_EQ(periods.back().second, 3);
}

TEST(circuit_breaker_backoff, reset_starts_doubling_over) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900), pinned(0));
  open_periods(b, clock, 2);
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 240);
  b.reset(clock.now());
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 60);
  fail_times(b, clock, 1);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(b.snapshot(), clock.now()), 60);
}

TEST(circuit_breaker_backoff, jitter_at_minus_one_shortens_by_fraction) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900, 0.1), pinned(-1));
  const auto periods = open_periods(b, clock, 1);
  EXPECT_DOUBLE_EQ(periods[0].first, 60);  // reported without jitter
  EXPECT_NEAR(periods[0].second, 54, 1e-6);
  EXPECT_DOUBLE_EQ(periods[1].first, 120);
  EXPECT_NEAR(periods[1].second, 108, 1e-6);
}

TEST(circuit_breaker_backoff, jitter_at_plus_one_lengthens_by_fraction) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900, 0.1), pinned(1));
  const auto periods = open_periods(b, clock, 1);
  EXPECT_DOUBLE_EQ(periods[0].first, 60);
  EXPECT_NEAR(periods[0].second, 66, 1e-6);
  EXPECT_NEAR(periods[1].second, 132, 1e-6);
}

TEST(circuit_breaker_backoff, jitter_applies_to_capped_timeout) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 600, 900, 0.2), pinned(1));
  const auto periods = open_periods(b, clock, 1);
  EXPECT_DOUBLE_EQ(periods[1].first, 900);
  EXPECT_NEAR(periods[1].second, 1080, 1e-6);
}

TEST(circuit_breaker_backoff, random_source_outside_unit_range_is_clamped) {
  manual_clock clock;
  circuit_breaker high(consecutive_settings(1, 60, 900, 0.1), pinned(5));
  circuit_breaker low(consecutive_settings(1, 60, 900, 0.1), pinned(-5));
  fail_times(high, clock, 1);
  fail_times(low, clock, 1);
  EXPECT_NEAR(seconds_until_attempt(high.snapshot(), clock.now()), 66, 1e-6);
  EXPECT_NEAR(seconds_until_attempt(low.snapshot(), clock.now()), 54, 1e-6);
}

TEST(circuit_breaker_backoff, random_jitter_stays_within_bounds) {
  constexpr double jitter = 0.25;
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900, jitter));  // the real generator
  double lowest_ratio = 2;
  double highest_ratio = 0;
  for (int episode = 0; episode < 100; ++episode) {
    for (const auto& [timeout, delay] : open_periods(b, clock, 5)) {
      EXPECT_GE(delay, timeout * (1 - jitter) - 1e-6);
      EXPECT_LE(delay, timeout * (1 + jitter) + 1e-6);
      lowest_ratio = std::min(lowest_ratio, delay / timeout);
      highest_ratio = std::max(highest_ratio, delay / timeout);
    }
    b.reset(clock.now());
  }
  // 600 draws: the jitter really spreads the deadlines over (most of) its range.
  EXPECT_LT(lowest_ratio, 1 - jitter / 2);
  EXPECT_GT(highest_ratio, 1 + jitter / 2);
}

TEST(circuit_breaker_backoff, next_attempt_wall_and_steady_agree) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 60, 900, 0.1), pinned(0.5));
  clock.advance_s(12.5);
  fail_times(b, clock, 1);
  const auto now = clock.now();
  const auto s = b.snapshot();
  ASSERT_TRUE(s.next_attempt_at && s.next_attempt_steady && s.opened_at);
  EXPECT_EQ(*s.opened_at, now.wall);
  EXPECT_NEAR(seconds_d(*s.next_attempt_steady - now.steady).count(), 63, 1e-6);
  EXPECT_NEAR(seconds_d(*s.next_attempt_at - now.wall).count(), 63, 1e-6);
  // The trial becomes available exactly at next_attempt_steady.
  clock.advance(*s.next_attempt_steady - now.steady);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

TEST(circuit_breaker_backoff, fractional_timeouts_are_honoured) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 0.2, 1), pinned(0));
  fail_times(b, clock, 1);
  clock.advance_s(0.19);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  clock.advance_s(0.01);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

}  // namespace
}  // namespace healthd
