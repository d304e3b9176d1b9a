// Rate mode (as Resilience4j): a count-based window of the last N calls, failure and slow-call rates.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <string>

namespace healthd {
namespace {

using test::manual_clock;
using test::pinned;
using test::rate_settings;
using test::take_trial;

// Feeds outcomes written as a string: 'S' success, 'F' failure, 'L' slow success (latency 150 ms).
void feed(circuit_breaker& b, const manual_clock& clock, const std::string& outcomes) {
  for (char c : outcomes) {
    switch (c) {
      case 'S': b.record_success(clock.now(), millis_d{5}); break;
      case 'L': b.record_success(clock.now(), millis_d{150}); break;
      case 'F': b.record_failure(clock.now(), "failed", millis_d{5}); break;
      default: FAIL() << "unknown outcome " << c;
    }
  }
}

config::breaker_config slow_settings(int window_size, int minimum_calls, double slow_rate) {
  auto c = rate_settings(window_size, minimum_calls, 100);
  c.slow_call_ms = 100;
  c.slow_call_rate_threshold = slow_rate;
  return c;
}

TEST(circuit_breaker_rate, no_decision_below_minimum_calls) {
  manual_clock clock;
  circuit_breaker b(rate_settings(10, 5, 50), pinned(0));
  feed(b, clock, "FFFF");
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.mode, config::breaker_mode::rate);
  EXPECT_EQ(s.failure_count, 4);
  EXPECT_EQ(s.window_calls, 4);
  feed(b, clock, "F");
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, rate_below_threshold_stays_closed) {
  manual_clock clock;
  circuit_breaker b(rate_settings(10, 10, 50), pinned(0));
  feed(b, clock, "SSSSSFFFFS");  // 4 of 10
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.snapshot().failure_count, 4);
}

TEST(circuit_breaker_rate, opens_when_failure_rate_reaches_threshold) {
  manual_clock clock;
  circuit_breaker b(rate_settings(10, 10, 50), pinned(0));
  feed(b, clock, "SSSSSFFFFS");
  // The window slides past the oldest success: 5 of 10 failed, exactly the threshold.
  feed(b, clock, "F");
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_EQ(s.failures, 5U);
  EXPECT_EQ(s.successes, 6U);
}

TEST(circuit_breaker_rate, success_can_complete_minimum_and_open) {
  manual_clock clock;
  circuit_breaker b(rate_settings(10, 4, 50), pinned(0));
  feed(b, clock, "FFS");
  EXPECT_EQ(b.state(), breaker_state::closed);
  feed(b, clock, "S");  // 2 of 4 failed
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, window_slides_old_failures_out) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 4, 75), pinned(0));
  feed(b, clock, "FFSSSSSS");
  auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.window_calls, 4);
  feed(b, clock, "FF");
  EXPECT_EQ(b.state(), breaker_state::closed);  // 2 of 4
  feed(b, clock, "F");                          // 3 of 4
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, minimum_above_window_means_full_window) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 10, 100), pinned(0));
  feed(b, clock, "FFF");
  EXPECT_EQ(b.state(), breaker_state::closed);
  feed(b, clock, "F");
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, slow_call_rate_opens) {
  manual_clock clock;
  circuit_breaker b(slow_settings(4, 4, 50), pinned(0));
  feed(b, clock, "LSS");
  EXPECT_EQ(b.state(), breaker_state::closed);
  feed(b, clock, "L");  // 2 of 4 slow
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.failures, 0U);
}

TEST(circuit_breaker_rate, latency_equal_to_slow_limit_is_slow) {
  manual_clock clock;
  circuit_breaker b(slow_settings(2, 2, 100), pinned(0));
  b.record_success(clock.now(), millis_d{100});
  b.record_success(clock.now(), millis_d{99.9});
  EXPECT_EQ(b.state(), breaker_state::closed);
  b.record_success(clock.now(), millis_d{100});
  EXPECT_EQ(b.state(), breaker_state::closed);  // window: 99.9, 100
  b.record_success(clock.now(), millis_d{100});
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, slow_rule_ignored_without_slow_call_ms) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 4, 50), pinned(0));
  for (int i = 0; i < 8; ++i)
    b.record_success(clock.now(), millis_d{60'000});
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker_rate, slow_failures_count_as_failures_not_slow) {
  manual_clock clock;
  circuit_breaker b(slow_settings(4, 4, 50), pinned(0));
  b.record_failure(clock.now(), "slow and failed", millis_d{5000});
  b.record_failure(clock.now(), "slow and failed", millis_d{5000});
  feed(b, clock, "SS");
  // 50% failed (< 100%), 0% slow (< 50%).
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.snapshot().failure_count, 2);
}

TEST(circuit_breaker_rate, window_cleared_when_opening) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 2, 50), pinned(0));
  feed(b, clock, "FF");
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.window_calls, 0);
}

TEST(circuit_breaker_rate, results_while_open_stay_out_of_window) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 2, 50), pinned(0));
  feed(b, clock, "FF");
  feed(b, clock, "FFS");
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.window_calls, 0);
  EXPECT_EQ(s.failures, 4U);
}

TEST(circuit_breaker_rate, trial_success_closes_with_empty_window) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 2, 50), pinned(0));
  feed(b, clock, "FF");
  take_trial(b, clock);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  b.record_success(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.window_calls, 0);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  // A fresh window: a single failure decides nothing.
  feed(b, clock, "F");
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker_rate, trial_failure_reopens_with_doubled_timeout) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 2, 50), pinned(0));
  feed(b, clock, "FF");
  take_trial(b, clock);
  b.record_failure(clock.now(), "trial failed");
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 120);
  EXPECT_EQ(s.times_opened, 2U);
}

TEST(circuit_breaker_rate, reset_clears_window) {
  manual_clock clock;
  circuit_breaker b(rate_settings(10, 10, 50), pinned(0));
  feed(b, clock, "FFS");
  b.reset(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.window_calls, 0);
  EXPECT_EQ(s.failure_count, 0);
}

TEST(circuit_breaker_rate, shrinking_window_keeps_newest_calls) {
  manual_clock clock;
  circuit_breaker b(rate_settings(6, 6, 60), pinned(0));
  feed(b, clock, "FFFSS");
  b.reconfigure(rate_settings(3, 3, 60));
  auto s = b.snapshot();
  EXPECT_EQ(s.window_calls, 3);
  EXPECT_EQ(s.failure_count, 1);
  feed(b, clock, "F");  // S S F: 33%
  EXPECT_EQ(b.state(), breaker_state::closed);
  feed(b, clock, "F");  // S F F: 67%
  EXPECT_EQ(b.state(), breaker_state::open);
}

TEST(circuit_breaker_rate, mode_change_clears_evidence) {
  manual_clock clock;
  circuit_breaker b(test::consecutive_settings(3), pinned(0));
  feed(b, clock, "FF");
  b.reconfigure(rate_settings(4, 4, 50));
  auto s = b.snapshot();
  EXPECT_EQ(s.mode, config::breaker_mode::rate);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.failures, 2U);
  b.reconfigure(test::consecutive_settings(3));
  feed(b, clock, "FF");
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.snapshot().window_calls, 0);
}

}  // namespace
}  // namespace healthd
