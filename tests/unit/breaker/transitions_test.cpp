// What each call returns: the admission ticket, and the transition the call caused (and no other call).
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::rate_settings;
using test::take_trial;
using test::transition;
using test::transition_log;

constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half_open = breaker_state::half_open;

TEST(circuit_breaker_transitions, ticket_compares_equal_to_its_admission) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  const auto admitted = b.allow(clock.now());
  EXPECT_EQ(admitted, admission::admitted);
  EXPECT_NE(admitted, admission::trial);
  EXPECT_TRUE(admission::admitted == admitted);
  EXPECT_FALSE(admitted.transition);
  EXPECT_EQ(testing::PrintToString(admitted.kind), "admitted");
}

TEST(circuit_breaker_transitions, failure_reaching_threshold_returns_closed_to_open) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  const auto ticket = b.allow(clock.now());
  EXPECT_EQ(b.record_failure(ticket, clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(ticket, clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(ticket, clock.now(), "refused"), transition(closed, open));
  EXPECT_EQ(b.state(), open);
}

TEST(circuit_breaker_transitions, ticketless_results_return_their_transitions) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  EXPECT_EQ(b.record_failure(clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_success(clock.now()), std::nullopt);
  EXPECT_EQ(b.record_failure(clock.now(), "refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(clock.now(), "refused"), transition(closed, open));
  take_trial(b, clock);
  EXPECT_EQ(b.abandon(clock.now()), std::nullopt);
  ASSERT_EQ(b.allow(clock.now()), admission::trial);
  EXPECT_EQ(b.record_failure(clock.now(), "still down"), transition(half_open, open));
  take_trial(b, clock);
  EXPECT_EQ(b.record_success(clock.now()), transition(half_open, closed));
}

TEST(circuit_breaker_transitions, only_the_allow_that_moves_to_half_open_carries_it) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  const auto early = b.allow(clock.now());
  EXPECT_EQ(early, admission::rejected);
  EXPECT_FALSE(early.transition);
  clock.advance_s(60);
  const auto trial = b.allow(clock.now());
  EXPECT_EQ(trial, admission::trial);
  EXPECT_EQ(trial.transition, transition(open, half_open));
  const auto other = b.allow(clock.now());
  EXPECT_EQ(other, admission::rejected);
  EXPECT_FALSE(other.transition);
  // A trial handed out after an abandon, in a half_open the breaker is already in, causes nothing.
  b.abandon(trial, clock.now());
  const auto second = b.allow(clock.now());
  EXPECT_EQ(second, admission::trial);
  EXPECT_FALSE(second.transition);
}

TEST(circuit_breaker_transitions, trial_results_return_their_transitions) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  fail_times(b, clock, 1);
  clock.advance_s(60);
  auto trial = b.allow(clock.now());
  ASSERT_EQ(trial, admission::trial);
  EXPECT_EQ(b.record_failure(trial, clock.now(), "still down"), transition(half_open, open));
  clock.advance_s(120);
  trial = b.allow(clock.now());
  ASSERT_EQ(trial, admission::trial);
  EXPECT_EQ(b.record_success(trial, clock.now()), transition(half_open, closed));
  EXPECT_EQ(b.state(), closed);
}

TEST(circuit_breaker_transitions, rate_mode_success_that_opens_returns_closed_to_open) {
  manual_clock clock;
  auto settings = rate_settings(4, 4, 50);
  settings.slow_call_ms = 100;
  settings.slow_call_rate_threshold = 50;
  circuit_breaker b(settings, pinned(0));
  const auto ticket = b.allow(clock.now());
  EXPECT_EQ(b.record_success(ticket, clock.now(), millis_d{500}), std::nullopt);
  EXPECT_EQ(b.record_success(ticket, clock.now(), millis_d{1}), std::nullopt);
  EXPECT_EQ(b.record_success(ticket, clock.now(), millis_d{1}), std::nullopt);
  EXPECT_EQ(b.record_success(ticket, clock.now(), millis_d{500}), transition(closed, open));
}

TEST(circuit_breaker_transitions, manual_operations_return_their_transitions) {
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3), pinned(0));
  EXPECT_EQ(b.trial_now(clock.now()), std::nullopt);
  EXPECT_EQ(b.reset(clock.now()), std::nullopt);
  EXPECT_EQ(b.force_open(clock.now()), transition(closed, open));
  EXPECT_EQ(b.force_open(clock.now()), std::nullopt) << "restarting the open period is no transition";
  EXPECT_EQ(b.trial_now(clock.now()), transition(open, half_open));
  EXPECT_EQ(b.trial_now(clock.now()), std::nullopt);
  EXPECT_EQ(b.force_open(clock.now()), transition(half_open, open));
  EXPECT_EQ(b.reset(clock.now()), transition(open, closed));
  fail_times(b, clock, 1);
  EXPECT_EQ(b.reset(clock.now()), std::nullopt) << "clearing the failure count is no transition";
  b.trial_now(clock.now());
  EXPECT_EQ(b.state(), closed);
  b.force_open(clock.now());
  b.trial_now(clock.now());
  EXPECT_EQ(b.reset(clock.now()), transition(half_open, closed));
}

// The engine used to compare state() before and after its own call; with two subsystems on one breaker, the other
// subsystem's call can move the state in between. The returned transition belongs to the call that caused it.
TEST(circuit_breaker_transitions, subsystems_sharing_a_breaker_each_get_only_their_own_transitions) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(2), pinned(0));
  b.set_listener(log.listener());
  const auto database = b.allow(clock.now());
  const auto replica = b.allow(clock.now());
  ASSERT_EQ(database, admission::admitted);
  ASSERT_EQ(replica, admission::admitted);

  EXPECT_EQ(b.record_failure(replica, clock.now(), "replica refused"), std::nullopt);
  EXPECT_EQ(b.record_failure(database, clock.now(), "database refused"), transition(closed, open));
  const auto replica_again = b.allow(clock.now());
  EXPECT_EQ(replica_again, admission::rejected);
  EXPECT_FALSE(replica_again.transition);

  clock.advance_s(60);
  const auto replica_trial = b.allow(clock.now());
  const auto database_rejected = b.allow(clock.now());
  EXPECT_EQ(replica_trial, admission::trial);
  EXPECT_EQ(replica_trial.transition, transition(open, half_open));
  EXPECT_EQ(database_rejected, admission::rejected);
  EXPECT_FALSE(database_rejected.transition);
  EXPECT_EQ(b.record_success(replica_trial, clock.now()), transition(half_open, closed));

  EXPECT_EQ(log.all(), (std::vector<breaker_transition>{transition(closed, open), transition(open, half_open),
                                                        transition(half_open, closed)}));
}

TEST(circuit_breaker_transitions, concurrent_failures_of_two_subsystems_return_the_open_once) {
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(1), pinned(0));
  b.set_listener(log.listener());
  const auto database = b.allow(clock.now());
  const auto replica = b.allow(clock.now());
  EXPECT_EQ(b.record_failure(database, clock.now(), "database refused"), transition(closed, open));
  EXPECT_EQ(b.record_failure(replica, clock.now(), "replica refused"), std::nullopt);
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, open);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(s.failure_count, 1);
  EXPECT_EQ(s.failures, 2U);
  EXPECT_EQ(log.all(), (std::vector<breaker_transition>{transition(closed, open)}));
}

}  // namespace
}  // namespace healthd
