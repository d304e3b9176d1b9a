// Manual operations (force_open, reset, trial_now) and the state-change listener.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>
#include <vector>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::seconds_until_attempt;
using test::take_trial;
using test::transition_log;

using step = std::pair<breaker_state, breaker_state>;
constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half_open = breaker_state::half_open;

TEST(circuit_breaker_manual, force_open_from_closed_opens_and_counts) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.set_listener(log.listener());
  b.force_open(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.opened_at, clock.now().wall);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, clock.now()), 60);
  EXPECT_EQ(log.steps(), (std::vector<step>{{closed, open}}));
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
}

TEST(circuit_breaker_manual, force_open_while_open_restarts_period_without_counting) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 1);
  clock.advance_s(45);
  const auto version = b.snapshot().version;
  b.force_open(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(s.opened_at, clock.now().wall);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_DOUBLE_EQ(seconds_until_attempt(s, clock.now()), 60);
  EXPECT_GT(s.version, version);
  EXPECT_EQ(log.steps(), (std::vector<step>{{closed, open}}));
}

TEST(circuit_breaker_manual, force_open_from_half_open_uses_doubled_timeout) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 1);
  take_trial(b, clock);
  b.force_open(clock.now());
  auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_FALSE(s.trial_in_progress);
  EXPECT_EQ(s.times_opened, 2U);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 120);
  // The interrupted trial reports late: counted, no transition.
  b.record_success(clock.now());
  s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_EQ(s.successes, 1U);
  EXPECT_EQ(log.steps(), (std::vector<step>{{closed, open}, {open, half_open}, {half_open, open}}));
}

TEST(circuit_breaker_manual, reset_closes_and_clears_doubling_keeping_counters) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 1);
  take_trial(b, clock);
  b.record_failure(clock.now(), "still down");
  ASSERT_DOUBLE_EQ(b.snapshot().current_recovery_timeout_s, 120);
  ASSERT_EQ(b.allow(clock.now()), admission::rejected);
  b.reset(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_DOUBLE_EQ(s.current_recovery_timeout_s, 60);
  EXPECT_FALSE(s.opened_at);
  EXPECT_FALSE(s.next_attempt_steady);
  EXPECT_EQ(s.times_opened, 2U);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(s.rejected, 1U);
  EXPECT_EQ(s.last_failure, "still down");
  EXPECT_EQ(b.allow(clock.now()), admission::admitted);
  EXPECT_EQ(log.steps().back(), (step{open, closed}));
}

TEST(circuit_breaker_manual, reset_from_half_open_frees_the_trial) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  take_trial(b, clock);
  b.reset(clock.now());
  EXPECT_EQ(b.state(), closed);
  EXPECT_FALSE(b.snapshot().trial_in_progress);
  // Without its ticket the old trial's result cannot be told from a new call's: a closed-state failure like any
  // other (with the ticket it is late: late_results_test.cpp).
  b.record_failure(clock.now(), "late trial");
  EXPECT_EQ(b.state(), open);
}

TEST(circuit_breaker_manual, reset_when_closed_clears_failure_count_only) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 2);
  b.reset(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, closed);
  EXPECT_EQ(s.failure_count, 0);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_TRUE(log.steps().empty());
  fail_times(b, clock, 2);
  EXPECT_EQ(b.state(), closed);
}

TEST(circuit_breaker_manual, reset_of_clean_closed_breaker_is_noop) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.record_success(clock.now());
  const auto before = b.snapshot();
  b.reset(clock.now());
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, closed);
  EXPECT_EQ(after.version, before.version);
}

TEST(circuit_breaker_manual, trial_now_moves_open_to_half_open_at_once) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 1);
  clock.advance_s(5);
  b.trial_now(clock.now());
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, half_open);
  EXPECT_FALSE(s.trial_in_progress);
  EXPECT_EQ(s.next_attempt_steady, clock.now().steady);
  EXPECT_EQ(s.next_attempt_at, clock.now().wall);
  EXPECT_EQ(b.allow(clock.now()), admission::trial);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
  b.record_success(clock.now());
  EXPECT_EQ(log.steps(), (std::vector<step>{{closed, open}, {open, half_open}, {half_open, closed}}));
}

TEST(circuit_breaker_manual, trial_now_is_noop_when_closed) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 1);
  const auto before = b.snapshot();
  b.trial_now(clock.now());
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, closed);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.failure_count, 1);
  EXPECT_TRUE(log.steps().empty());
}

TEST(circuit_breaker_manual, trial_now_is_noop_when_half_open) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  take_trial(b, clock);
  const auto before = b.snapshot();
  b.trial_now(clock.now());
  const auto after = b.snapshot();
  EXPECT_EQ(after.state, half_open);
  EXPECT_TRUE(after.trial_in_progress);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(b.allow(clock.now()), admission::rejected);
}

TEST(circuit_breaker_listener, sees_each_transition_in_order) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  b.set_listener(log.listener());
  fail_times(b, clock, 2);
  take_trial(b, clock);
  b.record_failure(clock.now(), "trial failed");
  take_trial(b, clock);
  b.record_success(clock.now());
  EXPECT_EQ(log.steps(),
            (std::vector<step>{
                {closed, open}, {open, half_open}, {half_open, open}, {open, half_open}, {half_open, closed}}));
  for (const auto& t : log.all())
    EXPECT_EQ(t.name, "database");
}

TEST(circuit_breaker_listener, not_called_without_state_change) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  b.set_listener(log.listener());
  ASSERT_EQ(b.allow(clock.now()), admission::admitted);
  b.record_success(clock.now());
  fail_times(b, clock, 1);
  b.reset(clock.now());
  b.trial_now(clock.now());
  b.abandon(clock.now());
  b.reconfigure(consecutive_settings(4));
  EXPECT_TRUE(log.steps().empty());
}

TEST(circuit_breaker_listener, may_call_back_into_breaker_without_deadlock) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  std::vector<step> seen;
  std::vector<breaker_state> state_seen_in_listener;
  b.set_listener([&](const breaker_transition& t) {
    seen.emplace_back(t.from, t.to);
    state_seen_in_listener.push_back(b.snapshot().state);
    // Re-entrant transition: delivered after this call returns, still in order.
    if (t.to == open) b.trial_now(clock.now());
  });
  fail_times(b, clock, 1);
  EXPECT_EQ(b.state(), half_open);
  EXPECT_EQ(seen, (std::vector<step>{{closed, open}, {open, half_open}}));
  EXPECT_EQ(state_seen_in_listener, (std::vector<breaker_state>{open, half_open}));
}

TEST(circuit_breaker_listener, replaced_listener_gets_later_transitions) {
  manual_clock clock;
  transition_log first;
  transition_log second;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(first.listener());
  fail_times(b, clock, 1);
  b.set_listener(second.listener());
  b.reset(clock.now());
  EXPECT_EQ(first.steps(), (std::vector<step>{{closed, open}}));
  EXPECT_EQ(second.steps(), (std::vector<step>{{open, closed}}));
}

TEST(circuit_breaker_listener, throwing_listener_does_not_block_later_deliveries) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  std::vector<step> seen;
  b.set_listener([&](const breaker_transition& t) {
    seen.emplace_back(t.from, t.to);
    if (seen.size() == 1) throw std::runtime_error("listener bug");
  });
  EXPECT_THROW(b.record_failure(clock.now(), "down"), std::runtime_error);
  EXPECT_EQ(b.state(), open);
  b.reset(clock.now());
  EXPECT_EQ(seen, (std::vector<step>{{closed, open}, {open, closed}}));
}

}  // namespace
}  // namespace healthd
