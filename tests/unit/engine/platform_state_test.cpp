#include "healthd/engine/platform_state.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

config::subsystem_config subsystem(std::string name, std::optional<std::string> breaker, bool critical = false,
                                   std::vector<std::string> depends_on = {}) {
  config::subsystem_config s;
  s.name = std::move(name);
  s.breaker = std::move(breaker);
  s.critical = critical;
  s.depends_on = std::move(depends_on);
  s.probe.type = "tcp";
  s.probe.options = config::tcp_probe{"127.0.0.1", 1};
  return s;
}

std::shared_ptr<const config::daemon_config> make_config() {
  auto cfg = std::make_shared<config::daemon_config>();
  config::breaker_config db;
  db.name = "database";
  db.failure_threshold = 2;
  cfg->breakers = {db};
  cfg->subsystems = {subsystem("database", "database", true), subsystem("api", std::nullopt, false, {"database"}),
                     subsystem("websocket", std::nullopt)};
  return cfg;
}

probe_result result(probe_status status, std::string message = "ok") {
  probe_result r;
  r.status = status;
  r.latency = millis_d{1.5};
  r.message = std::move(message);
  return r;
}

class platform_state_test : public ::testing::Test {
protected:
  test::manual_clock clock_;
  std::shared_ptr<const config::daemon_config> config_ = make_config();
  std::shared_ptr<breaker_registry> breakers_ = std::make_shared<breaker_registry>(config_->breakers);
  platform_state state_{config_, breakers_, clock_.now().wall};
};

TEST_F(platform_state_test, everything_starts_pending) {
  const auto v = state_.view();
  EXPECT_EQ(v.status, health_status::pending);
  EXPECT_FALSE(v.checked_at.has_value());
  ASSERT_EQ(v.subsystems.size(), 3U);
  EXPECT_EQ(v.subsystems[0].name, "database");
  EXPECT_EQ(v.subsystems[1].name, "api");
  EXPECT_EQ(v.summary.pending, 3);
  EXPECT_EQ(v.subsystems[0].breaker_state, breaker_state::closed);
  EXPECT_FALSE(v.subsystems[1].breaker_state.has_value());
}

TEST_F(platform_state_test, probe_results_drive_status_and_checked_at) {
  state_.record_probe("database", result(probe_status::healthy), clock_.now().wall);
  clock_.advance_s(2);
  state_.record_probe("api", result(probe_status::degraded, "slow"), clock_.now().wall);
  const auto v = state_.view();
  EXPECT_EQ(v.subsystems[0].status, health_status::healthy);
  EXPECT_EQ(v.subsystems[1].status, health_status::degraded);
  EXPECT_EQ(v.subsystems[1].message, "slow");
  EXPECT_EQ(v.checked_at, clock_.now().wall);
  EXPECT_EQ(v.status, health_status::degraded);
  EXPECT_EQ(v.summary.healthy, 1);
  EXPECT_EQ(v.summary.degraded, 1);
  EXPECT_EQ(v.summary.pending, 1);
}

TEST_F(platform_state_test, consecutive_failures_count_and_reset) {
  state_.record_probe("websocket", result(probe_status::critical, "refused"), clock_.now().wall);
  state_.record_probe("websocket", result(probe_status::critical, "refused"), clock_.now().wall);
  EXPECT_EQ(state_.subsystem("websocket")->consecutive_failures, 2);
  EXPECT_EQ(state_.subsystem("websocket")->status, health_status::critical);
  state_.record_probe("websocket", result(probe_status::healthy), clock_.now().wall);
  EXPECT_EQ(state_.subsystem("websocket")->consecutive_failures, 0);
}

TEST_F(platform_state_test, open_circuit_message_names_last_failure) {
  auto b = breakers_->find("database");
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(b->allow(clock_.now()), admission::admitted);
    b->record_failure(clock_.now(), "connect: Connection refused");
    state_.record_probe("database", result(probe_status::critical, "connect: Connection refused"), clock_.now().wall);
  }
  const auto db = state_.subsystem("database");
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->status, health_status::critical);
  EXPECT_EQ(db->breaker_state, breaker_state::open);
  EXPECT_TRUE(db->message.starts_with("circuit open (last failure: connect: Connection refused), next attempt at "))
      << db->message;
  EXPECT_EQ(state_.view().status, health_status::critical);  // database is marked critical: true
}

TEST_F(platform_state_test, dependency_message_comes_first) {
  breakers_->find("database")->force_open(clock_.now());
  state_.record_probe("database", result(probe_status::critical, "down"), clock_.now().wall);
  state_.record_probe("api", result(probe_status::critical, "HTTP 502"), clock_.now().wall);
  state_.set_healing_exhausted("api", 6);
  EXPECT_EQ(state_.subsystem("api")->message, "dependency database is critical");
}

TEST_F(platform_state_test, exhausted_healing_message_beats_probe_message) {
  state_.record_probe("websocket", result(probe_status::critical, "refused"), clock_.now().wall);
  state_.set_healing_exhausted("websocket", 6);
  EXPECT_EQ(state_.subsystem("websocket")->message, "healing exhausted: 6 attempts in the last hour");
  state_.set_healing_exhausted("websocket", std::nullopt);
  EXPECT_EQ(state_.subsystem("websocket")->message, "refused");
}

TEST_F(platform_state_test, exhaustion_is_not_shown_on_a_healthy_subsystem) {
  state_.record_probe("websocket", result(probe_status::healthy, "ok"), clock_.now().wall);
  state_.set_healing_exhausted("websocket", 6);
  EXPECT_EQ(state_.subsystem("websocket")->message, "ok");
}

TEST_F(platform_state_test, refused_before_its_first_probe_follows_the_shared_breaker) {
  auto cfg = std::make_shared<config::daemon_config>(*config_);
  cfg->subsystems.push_back(subsystem("replica", "database"));
  state_.apply_config(cfg);
  breakers_->find("database")->force_open(clock_.now());
  EXPECT_EQ(state_.status_of("replica"), health_status::pending);  // not refused yet
  state_.record_refusal("replica");
  const auto replica = state_.subsystem("replica");
  ASSERT_TRUE(replica.has_value());
  EXPECT_EQ(replica->status, health_status::critical);
  EXPECT_TRUE(replica->message.starts_with("circuit open (shared with database), next attempt at "))
      << replica->message;
  EXPECT_EQ(state_.view().summary.pending, 3);  // database, api and websocket were never probed
  EXPECT_EQ(state_.view().summary.critical, 1);
  // Half-open: someone holds the trial.
  clock_.advance_s(120);
  ASSERT_EQ(breakers_->find("database")->allow(clock_.now()), admission::trial);
  EXPECT_EQ(state_.status_of("replica"), health_status::recovering);
  // Its first result replaces the refusal.
  state_.record_probe("replica", result(probe_status::healthy), clock_.now().wall);
  EXPECT_EQ(state_.subsystem("replica")->message, "ok");
}

TEST_F(platform_state_test, cheap_status_reads_agree_with_the_view) {
  const auto check = [&] {
    const auto view = state_.view();
    EXPECT_EQ(state_.platform_status(), view.status);
    for (const auto& s : view.subsystems)
      EXPECT_EQ(state_.find_status(s.name), s.status) << s.name;
  };
  check();
  state_.record_probe("api", result(probe_status::degraded), clock_.now().wall);
  check();
  breakers_->find("database")->force_open(clock_.now());
  state_.record_probe("database", result(probe_status::critical), clock_.now().wall);
  check();
  state_.set_heal_phase("websocket", heal_phase::running);
  state_.record_probe("websocket", result(probe_status::critical), clock_.now().wall);
  check();
  EXPECT_FALSE(state_.find_status("nope").has_value());
  EXPECT_EQ(state_.status_of("nope"), health_status::pending);
}

TEST_F(platform_state_test, heal_phase_makes_the_subsystem_recovering) {
  state_.record_probe("websocket", result(probe_status::critical), clock_.now().wall);
  state_.set_heal_phase("websocket", heal_phase::running);
  EXPECT_EQ(state_.status_of("websocket"), health_status::recovering);
  state_.set_heal_phase("websocket", heal_phase::verifying);
  EXPECT_EQ(state_.status_of("websocket"), health_status::recovering);
  state_.set_heal_phase("websocket", heal_phase::idle);
  EXPECT_EQ(state_.status_of("websocket"), health_status::critical);
}

TEST_F(platform_state_test, version_moves_on_every_change) {
  const auto v0 = state_.version();
  state_.record_probe("api", result(probe_status::healthy), clock_.now().wall);
  const auto v1 = state_.version();
  EXPECT_NE(v0, v1);
  state_.set_heal_phase("api", heal_phase::idle);  // no change
  EXPECT_EQ(state_.version(), v1);
  breakers_->find("database")->force_open(clock_.now());
  EXPECT_NE(state_.version(), v1);
}

TEST_F(platform_state_test, history_is_bounded_and_oldest_first) {
  for (std::size_t i = 0; i < platform_state::history_capacity + 5; ++i) {
    state_.record_probe("api", result(probe_status::healthy, std::to_string(i)), clock_.now().wall);
  }
  const auto h = state_.history("api");
  ASSERT_EQ(h.size(), platform_state::history_capacity);
  EXPECT_EQ(h.front().message, "5");
  EXPECT_EQ(h.back().message, std::to_string(platform_state::history_capacity + 4));
}

TEST_F(platform_state_test, unknown_subsystem_is_ignored) {
  const auto v0 = state_.version();
  state_.record_probe("nope", result(probe_status::healthy), clock_.now().wall);
  EXPECT_EQ(state_.version(), v0);
  EXPECT_FALSE(state_.subsystem("nope").has_value());
  EXPECT_TRUE(state_.history("nope").empty());
}

TEST_F(platform_state_test, reload_keeps_remaining_subsystems) {
  state_.record_probe("api", result(probe_status::healthy), clock_.now().wall);
  auto next = std::make_shared<config::daemon_config>(*config_);
  next->subsystems.erase(next->subsystems.begin() + 2);  // drop websocket
  next->subsystems.push_back(subsystem("ml", std::nullopt));
  state_.apply_config(next);
  const auto v = state_.view();
  ASSERT_EQ(v.subsystems.size(), 3U);
  EXPECT_EQ(v.subsystems[1].status, health_status::healthy);
  EXPECT_EQ(v.subsystems[2].name, "ml");
  EXPECT_EQ(v.subsystems[2].status, health_status::pending);
}

TEST_F(platform_state_test, hour_summaries_change_only_on_refresh) {
  state_.record_probe("api", result(probe_status::healthy), clock_.now());
  state_.record_probe("api", result(probe_status::critical), clock_.now());
  EXPECT_EQ(state_.subsystem("api")->last_hour.probes, 0U);
  const auto before = state_.version();
  state_.refresh_hour_summaries(clock_.now().steady);
  EXPECT_NE(state_.version(), before);
  const auto summary = state_.subsystem("api")->last_hour;
  EXPECT_EQ(summary.probes, 2U);
  EXPECT_DOUBLE_EQ(summary.availability.value_or(-1), 0.5);
  ASSERT_TRUE(summary.p50_ms.has_value());
  EXPECT_GE(*summary.p50_ms, 1.5);
}

}  // namespace
}  // namespace healthd
