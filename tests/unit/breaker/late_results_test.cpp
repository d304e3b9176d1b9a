// Late results: a ticketed result from an earlier period (before a state change, reset or force_open) is counted
// but never moves the breaker, in both modes.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::rate_settings;
using test::transition;

constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half_open = breaker_state::half_open;

// From open, waits out the open period and returns the trial's ticket.
admission_ticket trial_ticket(circuit_breaker& b, manual_clock& clock) {
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  if (s.next_attempt_steady && *s.next_attempt_steady > clock.now().steady)
    clock.advance(*s.next_attempt_steady - clock.now().steady);
  auto ticket = b.allow(clock.now());
  EXPECT_EQ(ticket, admission::trial);
  return ticket;
}

TEST(circuit_breaker_late_results, late_trial_result_after_reset_leaves_breaker_closed) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto trial = trial_ticket(b, clock);
  ASSERT_EQ(b.reset(clock.now()), transition(half_open, closed));
  clock.advance_s(1);
  EXPECT_EQ(b.record_failure(trial, clock.now(), "late trial"), std::nullopt);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(s.last_failure, "late trial");
  EXPECT_EQ(s.last_failure_at, clock.now().wall);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(b.allow(clock.now()), admission::admitted);
}

TEST(circuit_breaker_late_results, late_trial_result_after_reset_leaves_rate_breaker_closed) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 1, 50), pinned(0));
  fail_times(b, clock, 1);
  ASSERT_EQ(b.state(), open);
  const auto trial = trial_ticket(b, clock);
  b.reset(clock.now());
  EXPECT_EQ(b.record_failure(trial, clock.now(), "late trial"), std::nullopt);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.window_calls, 0);
  EXPECT_EQ(s.failures, 2U);
}

TEST(circuit_breaker_late_results, late_trial_success_after_reset_does_not_clear_new_failures) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.force_open(clock.now());
  const auto trial = trial_ticket(b, clock);
  b.reset(clock.now());
  fail_times(b, clock, 2);
  EXPECT_EQ(b.record_success(trial, clock.now()), std::nullopt);
  const auto s = b.snapshot();
  EXPECT_EQ(s.failure_count, 2);
  EXPECT_EQ(s.successes, 1U);
  fail_times(b, clock, 1);
  EXPECT_EQ(b.state(), open);
}

TEST(circuit_breaker_late_results, late_trial_result_after_force_open_keeps_the_new_open_period) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto trial = trial_ticket(b, clock);
  ASSERT_EQ(b.force_open(clock.now()), transition(half_open, open));
  const auto before = b.snapshot();
  EXPECT_EQ(b.record_success(trial, clock.now()), std::nullopt);
  EXPECT_EQ(b.record_failure(trial, clock.now(), "late trial"), std::nullopt);
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, open);
  EXPECT_EQ(after.next_attempt_steady, before.next_attempt_steady);
  EXPECT_EQ(after.failure_count, before.failure_count);
  EXPECT_EQ(after.times_opened, 2U);
}

TEST(circuit_breaker_late_results, trial_from_before_trial_now_does_not_settle_the_new_trial) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto first = trial_ticket(b, clock);
  b.force_open(clock.now());
  ASSERT_EQ(b.trial_now(clock.now()), transition(open, half_open));
  const auto second = b.allow(clock.now());
  ASSERT_EQ(second, admission::trial);
  EXPECT_EQ(b.record_success(first, clock.now()), std::nullopt);
  EXPECT_EQ(b.state(), half_open);
  EXPECT_TRUE(b.snapshot().trial_in_progress);
  EXPECT_EQ(b.record_success(second, clock.now()), transition(half_open, closed));
}

TEST(circuit_breaker_late_results, stale_abandon_does_not_free_a_newer_trial) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto first = trial_ticket(b, clock);
  b.force_open(clock.now());
  b.trial_now(clock.now());
  const auto second = b.allow(clock.now());
  ASSERT_EQ(second, admission::trial);
  const auto version = b.snapshot().version;
  b.abandon(first, clock.now());
  const auto s = b.snapshot();
  EXPECT_TRUE(s.trial_in_progress);
  EXPECT_EQ(s.version, version);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  b.abandon(second, clock.now());
  EXPECT_FALSE(b.snapshot().trial_in_progress);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
}

TEST(circuit_breaker_late_results, rejected_ticket_does_not_settle_the_trial) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto trial = trial_ticket(b, clock);
  const auto rejected = b.allow(clock.now());
  ASSERT_EQ(rejected, admission::rejected);
  EXPECT_EQ(b.record_failure(rejected, clock.now(), "not a trial"), std::nullopt);
  EXPECT_EQ(b.record_success(rejected, clock.now()), std::nullopt);
  b.abandon(rejected, clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, half_open);
  EXPECT_TRUE(s.trial_in_progress);
  EXPECT_EQ(b.record_failure(trial, clock.now(), "still down"), transition(half_open, open));
}

TEST(circuit_breaker_late_results, closed_call_admitted_before_an_open_is_late_afterwards) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  const auto database = b.allow(clock.now());
  const auto replica = b.allow(clock.now());
  const auto slow_check = b.allow(clock.now());
  EXPECT_EQ(b.record_failure(database, clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(database, clock.now(), "refused"), transition(closed, open));
  // The other subsystem's failure, in flight while the breaker opened.
  EXPECT_EQ(b.record_failure(replica, clock.now(), "replica refused"), std::nullopt);
  auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_EQ(s.failure_count, 2);
  EXPECT_EQ(s.failures, 3U);
  EXPECT_EQ(s.last_failure, "replica refused");

  // Through half_open and closed again: the old call still belongs to the period it was admitted in.
  const auto trial = trial_ticket(b, clock);
  ASSERT_EQ(b.record_success(trial, clock.now()), transition(half_open, closed));
  fail_times(b, clock, 1);
  EXPECT_EQ(b.record_success(slow_check, clock.now()), std::nullopt);
  s = b.snapshot();
  EXPECT_EQ(s.failure_count, 1) << "a late success does not clear the new period's failures";
  EXPECT_EQ(b.record_failure(replica, clock.now(), "later still"), std::nullopt);
  EXPECT_EQ(b.snapshot().failure_count, 1);
  EXPECT_EQ(b.state(), closed);
}

TEST(circuit_breaker_late_results, rate_mode_keeps_late_results_out_of_the_new_window) {
  manual_clock clock;
  circuit_breaker b(rate_settings(4, 2, 60), pinned(0));
  const auto a = b.allow(clock.now());
  const auto late = b.allow(clock.now());
  EXPECT_EQ(b.record_failure(a, clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(a, clock.now(), "refused"), transition(closed, open));
  EXPECT_EQ(b.record_failure(late, clock.now(), "late"), std::nullopt);
  const auto trial = trial_ticket(b, clock);
  ASSERT_EQ(b.record_success(trial, clock.now()), transition(half_open, closed));
  const auto fresh = b.allow(clock.now());
  EXPECT_EQ(b.record_failure(fresh, clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(late, clock.now(), "late"), std::nullopt);
  EXPECT_EQ(b.record_success(late, clock.now()), std::nullopt);
  auto s = b.snapshot();
  EXPECT_EQ(s.window_calls, 1);
  EXPECT_EQ(s.failure_count, 1);
  EXPECT_EQ(s.state, closed);
  EXPECT_EQ(b.record_success(fresh, clock.now()), std::nullopt);
  EXPECT_EQ(b.snapshot().window_calls, 2) << "1 of 2 failed, below 60 %";
}

TEST(circuit_breaker_late_results, reset_of_closed_breaker_makes_calls_in_flight_late) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  const auto in_flight = b.allow(clock.now());
  fail_times(b, clock, 1);
  b.reset(clock.now());
  EXPECT_EQ(b.record_failure(in_flight, clock.now(), "from before the reset"), std::nullopt);
  EXPECT_EQ(b.snapshot().failure_count, 0);
  fail_times(b, clock, 1);
  EXPECT_EQ(b.state(), closed);
}

TEST(circuit_breaker_late_results, ticket_epoch_moves_with_each_period) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  const auto first = b.allow(clock.now());
  EXPECT_EQ(b.allow(clock.now()).epoch, first.epoch) << "same period";
  b.reset(clock.now());
  const auto after_reset = b.allow(clock.now());
  EXPECT_GT(after_reset.epoch, first.epoch);
  fail_times(b, clock, 1);
  const auto rejected = b.allow(clock.now());
  EXPECT_GT(rejected.epoch, after_reset.epoch);
  b.force_open(clock.now());
  const auto restarted = b.allow(clock.now());
  EXPECT_GT(restarted.epoch, rejected.epoch);
  clock.advance_s(60);
  const auto trial = b.allow(clock.now());
  EXPECT_GT(trial.epoch, restarted.epoch);
}

}  // namespace
}  // namespace healthd
