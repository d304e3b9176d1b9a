#include "healthd/logwatch/rule_fsm.hpp"

#include "healthd/core/utf8.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace healthd::logwatch {
namespace {

class rule_fsm_test : public ::testing::Test {
protected:
  rule_fsm make(std::size_t threshold, double window_s, double cooldown_s) {
    return rule_fsm({.name = "pg-too-many-clients",
                     .subsystem = "postgres",
                     .threshold = threshold,
                     .window_s = window_s,
                     .cooldown_s = cooldown_s},
                    secrets_);
  }

  std::optional<rule_action::fire> match(rule_fsm& fsm, std::string_view line = "FATAL: too many clients") {
    return fsm.on(rule_event::matched{clock_.now(), line});
  }

  // Feeds `n` matches one second apart; true when the last one fired and none before it did.
  bool fires_on_last_of(rule_fsm& fsm, int n) {
    for (int i = 1; i < n; ++i) {
      if (match(fsm)) return false;
      clock_.advance_s(1);
    }
    return match(fsm).has_value();
  }

  static void answer(rule_fsm& fsm, trigger_answer a, std::string reason = {}) {
    EXPECT_FALSE(fsm.on(rule_event::trigger_answered{a, std::move(reason)}).has_value());
  }

  test::manual_clock clock_;
  std::shared_ptr<secret_set> secrets_ = std::make_shared<secret_set>();
};

TEST_F(rule_fsm_test, fires_at_threshold_and_not_below) {
  rule_fsm fsm = make(3, 60, 300);
  EXPECT_FALSE(match(fsm).has_value());
  EXPECT_FALSE(match(fsm).has_value());
  EXPECT_EQ(fsm.window_count(), 2U);
  const auto fire = match(fsm, "FATAL:  sorry, too many clients already");
  ASSERT_TRUE(fire.has_value());
  EXPECT_EQ(fire->rule, "pg-too-many-clients");
  EXPECT_EQ(fire->subsystem, "postgres");
  EXPECT_EQ(fire->line, "FATAL:  sorry, too many clients already");
  EXPECT_EQ(fire->reason,
            "log rule 'pg-too-many-clients' matched 3 times within 60 s: FATAL:  sorry, too many clients already");
  EXPECT_EQ(fsm.counters().fired, 1U);
  EXPECT_EQ(fsm.window_count(), 0U);
  EXPECT_TRUE(fsm.awaiting_answer());
}

TEST_F(rule_fsm_test, threshold_one_fires_on_the_first_match_with_a_short_reason) {
  rule_fsm fsm = make(1, 0.5, 0);
  const auto fire = match(fsm, "certificate has expired");
  ASSERT_TRUE(fire.has_value());
  EXPECT_EQ(fire->reason, "log rule 'pg-too-many-clients' matched: certificate has expired");
}

TEST_F(rule_fsm_test, matches_spread_wider_than_the_window_never_fire) {
  rule_fsm fsm = make(2, 10, 300);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(match(fsm).has_value()) << i;
    clock_.advance_s(10.5);
  }
  EXPECT_EQ(fsm.counters().matched, 5U);
  EXPECT_EQ(fsm.counters().fired, 0U);
}

TEST_F(rule_fsm_test, window_boundary_is_inclusive) {
  rule_fsm fsm = make(2, 10, 300);
  EXPECT_FALSE(match(fsm).has_value());
  clock_.advance_s(10);
  EXPECT_TRUE(match(fsm).has_value());
}

TEST_F(rule_fsm_test, expired_matches_leave_the_window) {
  rule_fsm fsm = make(3, 10, 300);
  EXPECT_FALSE(match(fsm).has_value());  // t = 0: expires at t > 10
  clock_.advance_s(6);
  EXPECT_FALSE(match(fsm).has_value());  // t = 6
  clock_.advance_s(5);
  EXPECT_FALSE(fsm.on(rule_event::tick{clock_.now()}).has_value());
  EXPECT_EQ(fsm.window_count(), 1U);     // t = 11: the first one left
  EXPECT_FALSE(match(fsm).has_value());  // t = 11: two in the window
  clock_.advance_s(2);
  EXPECT_TRUE(match(fsm).has_value());  // t = 13: 6, 11, 13
}

TEST_F(rule_fsm_test, window_holds_at_most_threshold_timestamps) {
  rule_fsm fsm = make(4, 1000, 300);
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(match(fsm).has_value());
  EXPECT_EQ(fsm.window_count(), 3U);
  EXPECT_TRUE(match(fsm).has_value());
  EXPECT_EQ(fsm.window_count(), 0U);
}

TEST_F(rule_fsm_test, cooldown_suppresses_then_counting_starts_afresh) {
  rule_fsm fsm = make(2, 60, 300);
  ASSERT_TRUE(fires_on_last_of(fsm, 2));
  answer(fsm, trigger_answer::started);
  EXPECT_TRUE(fsm.quiet());

  for (int i = 0; i < 5; ++i) {
    clock_.advance_s(50);
    EXPECT_FALSE(match(fsm).has_value()) << "t = " << 50 * (i + 1);
  }
  EXPECT_EQ(fsm.counters().suppressed, 5U);
  EXPECT_EQ(fsm.window_count(), 0U);  // suppressed matches do not count toward the next fire

  clock_.advance_s(50);  // 301 s after the fire
  EXPECT_FALSE(fsm.on(rule_event::tick{clock_.now()}).has_value());
  EXPECT_FALSE(fsm.quiet());
  EXPECT_FALSE(match(fsm).has_value());  // one match after the cooldown is not two
  clock_.advance_s(1);
  EXPECT_TRUE(match(fsm).has_value());
  EXPECT_EQ(fsm.counters().fired, 2U);
  EXPECT_EQ(fsm.counters().matched, 9U);
}

TEST_F(rule_fsm_test, cooldown_ends_exactly_at_its_length) {
  rule_fsm fsm = make(1, 60, 30);
  ASSERT_TRUE(match(fsm).has_value());
  answer(fsm, trigger_answer::started);
  clock_.advance_s(29.9);
  EXPECT_FALSE(match(fsm).has_value());
  clock_.advance_s(0.1);
  EXPECT_TRUE(match(fsm).has_value());
}

TEST_F(rule_fsm_test, stays_quiet_until_the_trigger_is_answered) {
  rule_fsm fsm = make(1, 60, 0);
  ASSERT_TRUE(match(fsm).has_value());
  clock_.advance_s(120);
  EXPECT_FALSE(match(fsm).has_value());
  EXPECT_EQ(fsm.counters().suppressed, 1U);
  answer(fsm, trigger_answer::started);
  EXPECT_TRUE(match(fsm).has_value());
}

TEST_F(rule_fsm_test, refused_triggers_are_counted_by_reason) {
  rule_fsm fsm = make(1, 60, 10);
  ASSERT_TRUE(match(fsm).has_value());
  answer(fsm, trigger_answer::refused, "hourly_limit");
  clock_.advance_s(10);
  ASSERT_TRUE(match(fsm).has_value());
  answer(fsm, trigger_answer::refused, "cooldown");
  clock_.advance_s(10);
  ASSERT_TRUE(match(fsm).has_value());
  answer(fsm, trigger_answer::refused, "hourly_limit");
  clock_.advance_s(10);
  ASSERT_TRUE(match(fsm).has_value());
  answer(fsm, trigger_answer::deferred);

  const rule_counters& c = fsm.counters();
  EXPECT_EQ(c.fired, 4U);
  EXPECT_EQ(c.refused_total(), 3U);
  EXPECT_EQ(c.refused.at("hourly_limit"), 2U);
  EXPECT_EQ(c.refused.at("cooldown"), 1U);
  EXPECT_EQ(c.deferred, 1U);
  EXPECT_EQ(c.started, 0U);
}

TEST_F(rule_fsm_test, counters_track_matches_ignores_and_the_last_line) {
  rule_fsm fsm = make(5, 60, 300);
  EXPECT_FALSE(fsm.on(rule_event::ignored{}).has_value());
  EXPECT_FALSE(fsm.on(rule_event::ignored{}).has_value());
  EXPECT_FALSE(fsm.counters().last_match_at.has_value());
  EXPECT_FALSE(match(fsm, "first").has_value());
  clock_.advance_s(2);
  const instant at = clock_.now();
  EXPECT_FALSE(match(fsm, "second").has_value());

  const rule_counters& c = fsm.counters();
  EXPECT_EQ(c.ignored, 2U);
  EXPECT_EQ(c.matched, 2U);
  EXPECT_EQ(c.fired, 0U);
  EXPECT_EQ(c.suppressed, 0U);
  EXPECT_EQ(c.last_match_at, at.wall);
  EXPECT_EQ(c.last_match_line, "second");
}

TEST_F(rule_fsm_test, kept_line_is_redacted_valid_utf8_and_cut_to_512_bytes) {
  secrets_->add("hunter2");
  rule_fsm fsm = make(1, 60, 300);
  // 510 bytes, a secret, invalid bytes, then a two-byte character across the 512-byte mark.
  std::string line = "password=hunter2 \xFF ";
  line += std::string(512 - line.size() - 5, 'x');
  line += "ab\xC3\xA9yz";
  const auto fire = match(fsm, line);
  ASSERT_TRUE(fire.has_value());
  EXPECT_EQ(fire->line.find("hunter2"), std::string::npos);
  EXPECT_NE(fire->line.find("password=***"), std::string::npos);
  EXPECT_LE(fire->line.size(), max_rule_line_bytes);
  EXPECT_TRUE(is_valid_utf8(fire->line));
  EXPECT_EQ(fire->line, fsm.counters().last_match_line);
  EXPECT_NE(fire->reason.find(fire->line), std::string::npos);
  EXPECT_EQ(fire->reason.find("hunter2"), std::string::npos);
}

TEST_F(rule_fsm_test, without_secrets_the_line_is_still_made_valid_and_cut) {
  rule_fsm fsm({.name = "r", .subsystem = "s", .cooldown_s = 0}, nullptr);
  const auto fire = fsm.on(rule_event::matched{clock_.now(), std::string(600, '\xFF')});
  ASSERT_TRUE(fire.has_value());
  EXPECT_TRUE(is_valid_utf8(fire->line));
  EXPECT_LE(fire->line.size(), max_rule_line_bytes);
  EXPECT_FALSE(fire->line.empty());

  // A character that would cross the 512-byte mark is left out whole.
  answer(fsm, trigger_answer::started);
  const auto second = fsm.on(rule_event::matched{clock_.now(), std::string(511, 'x') + "\xC3\xA9"});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->line, std::string(511, 'x'));
}

TEST_F(rule_fsm_test, invalid_settings_are_refused) {
  EXPECT_THROW(make(0, 60, 300), std::invalid_argument);
  EXPECT_THROW(make(1, -1, 300), std::invalid_argument);
  EXPECT_THROW(make(1, 60, -1), std::invalid_argument);
}

}  // namespace
}  // namespace healthd::logwatch
