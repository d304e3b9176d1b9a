// Consecutive mode: the state machine, counters, late results, abandon and the snapshot version.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::seconds_until_attempt;
using test::take_trial;

TEST(circuit_breaker, new_breaker_is_closed_and_admits) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(), pinned(0));
  EXPECT_EQ(b.allow(clock.now()), admission::admitted);
  const auto s = b.snapshot();
  EXPECT_EQ(s.name, "database");
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.mode, config::breaker_mode::consecutive);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.failure_threshold, 3);
  EXPECT_DOUBLE_EQ(s.recovery_timeout_s, 60);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_FALSE(s.opened_at);
  EXPECT_FALSE(s.next_attempt_at);
  EXPECT_FALSE(s.next_attempt_steady);
  EXPECT_FALSE(s.last_failure_at);
  EXPECT_EQ(s.times_opened, 0U);
  EXPECT_EQ(s.version, 0U);
}

TEST(circuit_breaker, failures_below_threshold_stay_closed) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  fail_times(b, clock, 2);
  EXPECT_EQ(b.state(), breaker_state::closed);
  EXPECT_EQ(b.allow(clock.now()), admission::admitted);
  const auto s = b.snapshot();
  EXPECT_EQ(s.failure_count, 2);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(s.times_opened, 0U);
}

TEST(circuit_breaker, success_resets_failure_count) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  fail_times(b, clock, 2);
  b.record_success(clock.now());
  EXPECT_EQ(b.snapshot().failure_count, 0);
  fail_times(b, clock, 2);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.failure_count, 2);
  EXPECT_EQ(s.failures, 4U);
  EXPECT_EQ(s.successes, 1U);
}

TEST(circuit_breaker, reaching_threshold_opens) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  fail_times(b, clock, 3);
  const auto now = clock.now();
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.failure_count, 3);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(s.opened_at, now.wall);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, now), 60);
}

TEST(circuit_breaker, last_failure_keeps_message_and_time) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.record_failure(clock.now(), "connection refused");
  clock.advance_s(5);
  b.record_failure(clock.now(), "timeout after 2000 ms");
  const auto s = b.snapshot();
  EXPECT_EQ(s.last_failure, "timeout after 2000 ms");
  EXPECT_EQ(s.last_failure_at, clock.now().wall);
}

TEST(circuit_breaker, open_rejects_and_counts_rejections) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(b.allow(clock.now()), admission::rejected);
    clock.advance_s(10);
  }
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.rejected, 5U);
  EXPECT_EQ(s.successes, 0U);
  EXPECT_EQ(s.failures, 1U);
}

TEST(circuit_breaker, open_rejects_until_the_deadline_inclusive) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  clock.advance(to_duration(60) - std::chrono::nanoseconds{1});
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  EXPECT_EQ(b.state(), breaker_state::open);
  clock.advance(std::chrono::nanoseconds{1});
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

TEST(circuit_breaker, elapsed_timeout_moves_to_half_open_on_next_allow) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  clock.advance_s(61);
  // Pure: nothing happens until someone asks.
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::half_open);
  EXPECT_TRUE(s.trial_in_progress);
  EXPECT_EQ(s.rejected, 0U);
}

TEST(circuit_breaker, half_open_admits_exactly_one_trial) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  take_trial(b, clock);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::half_open);
  EXPECT_EQ(s.rejected, 3U);
}

TEST(circuit_breaker, trial_success_closes_and_resets_doubling) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  take_trial(b, clock);
  b.record_failure(clock.now(), "still down");
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 120);
  take_trial(b, clock);
  b.record_success(clock.now());

  auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_FALSE(s.trial_in_progress);
  EXPECT_FALSE(s.opened_at);
  EXPECT_FALSE(s.next_attempt_steady);
  EXPECT_FALSE(s.next_attempt_at);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_EQ(b.allow(clock.now()), admission::admitted);

  fail_times(b, clock, 1);
  s = b.snapshot();
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, clock.now()), 60);
  EXPECT_EQ(s.times_opened, 3U);
}

TEST(circuit_breaker, trial_failure_reopens_with_doubled_timeout) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  fail_times(b, clock, 2);
  take_trial(b, clock);
  b.record_failure(clock.now(), "trial refused");
  const auto now = clock.now();
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_FALSE(s.trial_in_progress);
  EXPECT_EQ(s.times_opened, 2U);
  EXPECT_EQ(s.failure_count, 3);  // consecutive failures since the last success, the trial included
  EXPECT_EQ(s.opened_at, now.wall);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 120);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, now), 120);
  EXPECT_EQ(s.last_failure, "trial refused");
}

TEST(circuit_breaker, half_open_reports_next_doubled_timeout) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 60);
  take_trial(b, clock);
  // The value a failing trial would open with.
  EXPECT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 120);
}

TEST(circuit_breaker, late_success_while_open_is_counted_without_transition) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  fail_times(b, clock, 2);
  const auto before = b.snapshot();
  clock.advance_s(1);
  b.record_success(clock.now());
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, breaker_state::open);
  EXPECT_EQ(after.successes, 1U);
  EXPECT_EQ(after.failure_count, 2);
  EXPECT_EQ(after.next_attempt_steady, before.next_attempt_steady);
  EXPECT_EQ(after.times_opened, 1U);
  EXPECT_GT(after.version, before.version);
}

TEST(circuit_breaker, late_failure_while_open_is_counted_without_transition) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  fail_times(b, clock, 2);
  const auto before = b.snapshot();
  clock.advance_s(1);
  b.record_failure(clock.now(), "late");
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, breaker_state::open);
  EXPECT_EQ(after.failures, 3U);
  EXPECT_EQ(after.failure_count, 2);
  EXPECT_EQ(after.last_failure, "late");
  EXPECT_EQ(after.next_attempt_steady, before.next_attempt_steady);
  EXPECT_EQ(after.times_opened, 1U);
  EXPECT_DOUBLE_EQ(after.current_recovery_timeout_s, 60);
}

TEST(circuit_breaker, result_in_half_open_without_trial_does_not_settle_it) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  b.trial_now(clock.now());
  ASSERT_EQ(b.state(), breaker_state::half_open);
  b.record_success(clock.now());
  EXPECT_EQ(b.state(), breaker_state::half_open);
  b.record_failure(clock.now(), "late");
  EXPECT_EQ(b.state(), breaker_state::half_open);
  const auto s = b.snapshot();
  EXPECT_EQ(s.successes, 1U);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

TEST(circuit_breaker, abandon_returns_trial_slot) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  take_trial(b, clock);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  b.abandon(clock.now());
  auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::half_open);
  EXPECT_FALSE(s.trial_in_progress);
  EXPECT_EQ(s.successes, 0U);
  EXPECT_EQ(s.failures, 1U);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
  b.record_success(clock.now());
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker, abandon_outside_a_trial_changes_nothing) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  ASSERT_EQ(b.allow(clock.now()), admission::admitted);
  const auto closed_version = b.snapshot().version;
  b.abandon(clock.now());
  EXPECT_EQ(b.snapshot().version, closed_version);
  fail_times(b, clock, 2);
  const auto open = b.snapshot();
  b.abandon(clock.now());
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, breaker_state::open);
  EXPECT_EQ(after.version, open.version);
}

TEST(circuit_breaker, version_moves_on_every_change_and_only_then) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  auto last = b.snapshot().version;
  const auto moved = [&] {
    const auto v = b.snapshot().version;
    const bool grew = v > last;
    last = v;
    return grew;
  };
  ASSERT_EQ(b.allow(clock.now()), admission::admitted);
  EXPECT_FALSE(moved()) << "allow in closed changes nothing";
  b.record_success(clock.now());
  EXPECT_TRUE(moved()) << "successes";
  b.trial_now(clock.now());
  EXPECT_FALSE(moved()) << "trial_now in closed is a no-op";
  b.record_failure(clock.now(), "down");
  EXPECT_TRUE(moved()) << "open";
  ASSERT_EQ(b.allow(clock.now()), admission::rejected);
  EXPECT_TRUE(moved()) << "rejected";
  clock.advance_s(60);
  ASSERT_EQ(b.allow(clock.now()), admission::trial);
  EXPECT_TRUE(moved()) << "half_open";
  ASSERT_EQ(b.allow(clock.now()), admission::rejected);
  EXPECT_TRUE(moved()) << "rejected";
  b.abandon(clock.now());
  EXPECT_TRUE(moved()) << "trial slot";
  b.reconfigure(consecutive_settings(2));
  EXPECT_TRUE(moved()) << "settings";
  EXPECT_EQ(b.snapshot().failure_threshold, 2);
  b.reset(clock.now());
  EXPECT_TRUE(moved()) << "closed";
  b.reset(clock.now());
  EXPECT_FALSE(moved()) << "reset of a clean closed breaker";
}

TEST(circuit_breaker, out_of_range_settings_are_clamped) {
  auto c = consecutive_settings(0, -5, 900, 3);
  c.window_size = 0;
  c.minimum_calls = 50;
  circuit_breaker b(c, pinned(1));
  const auto s = b.settings();
  EXPECT_EQ(s.failure_threshold, 1);
  EXPECT_DOUBLE_EQ(s.recovery_timeout_s, 0);
  EXPECT_DOUBLE_EQ(s.jitter, 1);
  EXPECT_EQ(s.window_size, 1);
  EXPECT_EQ(s.minimum_calls, 1);
  manual_clock clock;
  b.record_failure(clock.now(), "down");
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

TEST(circuit_breaker, reconfigure_keeps_state_counters_and_name) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  fail_times(b, clock, 2);
  auto next = consecutive_settings(4, 10, 40);
  next.name = "renamed";
  b.reconfigure(next);
  auto s = b.snapshot();
  EXPECT_EQ(s.name, "database");
  EXPECT_EQ(b.name(), "database");
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(s.failure_threshold, 4);
  EXPECT_DOUBLE_EQ(s.recovery_timeout_s, 10);
  // The running open period keeps its deadline.
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, clock.now()), 60);
  take_trial(b, clock);
  b.record_failure(clock.now(), "down");
  // The next period uses the new settings: min(10 * 2^1, 40).
  s = b.snapshot();
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 20);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, clock.now()), 20);
}

TEST(circuit_breaker, reconfigure_with_same_settings_changes_nothing) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  fail_times(b, clock, 1);
  const auto before = b.snapshot();
  b.reconfigure(consecutive_settings(3));
  const auto after = b.snapshot();
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.failure_count, 1);
}

TEST(circuit_breaker, lowered_threshold_applies_at_next_failure) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(5), pinned(0));
  fail_times(b, clock, 3);
  b.reconfigure(consecutive_settings(2));
  EXPECT_EQ(b.state(), breaker_state::closed);
  fail_times(b, clock, 1);
  EXPECT_EQ(b.state(), breaker_state::open);
}

}  // namespace
}  // namespace healthd
