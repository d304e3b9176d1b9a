#include "healthd/engine/heal_ladder.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

using kind = heal_decision::kind;

config::heal_config ladder_config(std::size_t rungs, double cooldown_s = 30, int max_per_hour = 6) {
  config::heal_config c;
  for (std::size_t i = 0; i < rungs; ++i) {
    config::action_config a;
    a.type = i == 0 ? "reconnect" : "exec";
    c.actions.push_back(a);
  }
  c.cooldown_s = cooldown_s;
  c.max_per_hour = max_per_hour;
  return c;
}

class heal_ladder_test : public ::testing::Test {
protected:
  test::manual_clock clock_;
  heal_context auto_;
};

TEST_F(heal_ladder_test, escalation_walks_the_ladder_and_stays_on_the_last) {
  heal_ladder ladder(ladder_config(3, 0));
  std::vector<std::size_t> rungs;
  for (int i = 0; i < 5; ++i) {
    const auto d = ladder.on_trigger(clock_.now(), auto_);
    ASSERT_EQ(d.what, kind::run);
    EXPECT_FALSE(d.dry_run);
    rungs.push_back(d.rung);
    clock_.advance_s(1);
  }
  EXPECT_EQ(rungs, (std::vector<std::size_t>{0, 1, 2, 2, 2}));
}

TEST_F(heal_ladder_test, passing_probe_resets_the_ladder) {
  heal_ladder ladder(ladder_config(3, 0));
  (void)ladder.on_trigger(clock_.now(), auto_);
  (void)ladder.on_trigger(clock_.now(), auto_);
  EXPECT_EQ(ladder.current_rung(), 2U);
  EXPECT_TRUE(ladder.in_episode());
  ladder.on_probe_passed();
  EXPECT_FALSE(ladder.in_episode());
  EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).rung, 0U);
}

TEST_F(heal_ladder_test, cooldown_defers_until_it_ends) {
  heal_ladder ladder(ladder_config(2, 30));
  const auto start = clock_.now();
  ASSERT_EQ(ladder.on_trigger(start, auto_).what, kind::run);
  clock_.advance_s(10);
  const auto d = ladder.on_trigger(clock_.now(), auto_);
  EXPECT_EQ(d.what, kind::defer);
  EXPECT_EQ(d.retry_at, start.steady + std::chrono::seconds{30});
  clock_.advance_s(20);
  const auto later = ladder.on_trigger(clock_.now(), auto_);
  EXPECT_EQ(later.what, kind::run);
  EXPECT_EQ(later.rung, 1U);
}

TEST_F(heal_ladder_test, hourly_limit_logs_one_skip_then_nothing) {
  heal_ladder ladder(ladder_config(1, 0, 3));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(ladder.on_trigger(clock_.now(), auto_).what, kind::run);
    clock_.advance_s(60);
  }
  const auto skip = ladder.on_trigger(clock_.now(), auto_);
  EXPECT_EQ(skip.what, kind::skip);
  EXPECT_EQ(skip.detail, "healing exhausted: 3 attempts in the last hour");
  EXPECT_EQ(ladder.exhausted(clock_.now()), 3);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).what, kind::none);
}

TEST_F(heal_ladder_test, hourly_limit_frees_up_as_attempts_age_out) {
  heal_ladder ladder(ladder_config(1, 0, 2));
  (void)ladder.on_trigger(clock_.now(), auto_);  // t = 0
  clock_.advance_s(600);
  (void)ladder.on_trigger(clock_.now(), auto_);  // t = 10 min
  EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).what, kind::skip);
  clock_.advance_s(3000);  // t = 60 min: the first attempt is an hour old
  EXPECT_FALSE(ladder.exhausted(clock_.now()).has_value());
  EXPECT_EQ(ladder.attempts_last_hour(clock_.now()), 1);
  EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).what, kind::run);
}

TEST_F(heal_ladder_test, dependency_blocks_and_is_logged_once_per_blocking_period) {
  heal_ladder ladder(ladder_config(2, 0));
  heal_context blocked{.blocking_dependency = "database", .blocking_status = health_status::critical};
  const auto first = ladder.on_trigger(clock_.now(), blocked);
  EXPECT_EQ(first.what, kind::skip);
  EXPECT_EQ(first.detail, "dependency database is critical");
  EXPECT_EQ(ladder.on_trigger(clock_.now(), blocked).what, kind::none);
  EXPECT_EQ(ladder.attempts_last_hour(clock_.now()), 0);
  // the dependency recovers: heal runs from the first rung
  const auto run = ladder.on_trigger(clock_.now(), auto_);
  EXPECT_EQ(run.what, kind::run);
  EXPECT_EQ(run.rung, 0U);
  // blocked again: logged again
  heal_context recovering{.blocking_dependency = "database", .blocking_status = health_status::recovering};
  EXPECT_EQ(ladder.on_trigger(clock_.now(), recovering).detail, "dependency database is recovering");
}

TEST_F(heal_ladder_test, dry_run_decides_like_auto_but_marks_it) {
  heal_ladder ladder(ladder_config(2, 0));
  heal_context dry{.mode = config::healing_mode::dry_run};
  const auto d = ladder.on_trigger(clock_.now(), dry);
  EXPECT_EQ(d.what, kind::run);
  EXPECT_TRUE(d.dry_run);
  EXPECT_EQ(d.detail, "dry run");
  EXPECT_EQ(ladder.on_trigger(clock_.now(), dry).rung, 1U);
}

TEST_F(heal_ladder_test, off_mode_and_empty_ladder_do_nothing) {
  heal_ladder ladder(ladder_config(2, 0));
  heal_context off{.mode = config::healing_mode::off};
  EXPECT_EQ(ladder.on_trigger(clock_.now(), off).what, kind::none);
  EXPECT_EQ(ladder.attempts_last_hour(clock_.now()), 0);
  heal_ladder empty(ladder_config(0));
  EXPECT_EQ(empty.on_trigger(clock_.now(), auto_).what, kind::none);
  EXPECT_FALSE(empty.on_manual(clock_.now()).has_value());
}

TEST_F(heal_ladder_test, manual_bypasses_cooldown_and_limit_but_counts) {
  heal_ladder ladder(ladder_config(3, 300, 2));
  (void)ladder.on_trigger(clock_.now(), auto_);
  (void)ladder.on_trigger(clock_.now(), auto_);  // in cooldown: deferred, not counted
  EXPECT_EQ(ladder.attempts_last_hour(clock_.now()), 1);
  EXPECT_EQ(ladder.on_manual(clock_.now()), 1U);
  EXPECT_EQ(ladder.on_manual(clock_.now()), 2U);  // past the limit of 2: still runs
  EXPECT_EQ(ladder.attempts_last_hour(clock_.now()), 3);
  EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).what, kind::skip);  // automatic heals are exhausted
}

TEST_F(heal_ladder_test, reconfigure_clamps_position_to_the_new_ladder) {
  heal_ladder ladder(ladder_config(3, 0));
  for (int i = 0; i < 3; ++i)
    (void)ladder.on_trigger(clock_.now(), auto_);
  ladder.reconfigure(ladder_config(2, 0));
  EXPECT_EQ(ladder.on_trigger(clock_.now(), auto_).rung, 1U);
}

}  // namespace
}  // namespace healthd
