// The subsystem state machine, driven by hand: whole episodes as sequences of events on a manual clock, with a real
// (pure) circuit breaker standing where the driver's would. No sockets, no sleeps.
#include "healthd/engine/subsystem_fsm.hpp"

#include "healthd/breaker/circuit_breaker.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace healthd {
namespace {

using namespace std::chrono_literals;
namespace ev = fsm_event;
namespace act = fsm_action;

config::action_config action(std::string type, std::string name = {}) {
  config::action_config a;
  a.type = std::move(type);
  if (!name.empty()) a.name = std::move(name);
  a.timeout_ms = 1000;
  return a;
}

subsystem_fsm_config fsm_config(std::string name, bool breaker, std::size_t rungs = 2) {
  subsystem_fsm_config c;
  c.name = std::move(name);
  c.has_breaker = breaker;
  c.retry_interval_s = 0.5;
  c.loop_interval_s = 30;
  if (rungs > 0) c.heal.actions.push_back(action("reconnect"));
  for (std::size_t i = 1; i < rungs; ++i)
    c.heal.actions.push_back(action("exec", "restart-" + std::to_string(i)));
  c.heal.cooldown_s = 0;
  c.heal.max_per_hour = 6;
  c.heal.after_failures = 3;
  return c;
}

config::breaker_config breaker_settings(int threshold = 2, double recovery_s = 10) {
  config::breaker_config b;
  b.name = "shared";
  b.failure_threshold = threshold;
  b.recovery_timeout_s = recovery_s;
  b.max_recovery_timeout_s = recovery_s * 8;
  b.jitter = 0;
  return b;
}

probe_result probe(bool pass, std::string message = {}) {
  probe_result r;
  r.status = pass ? probe_status::healthy : probe_status::critical;
  r.message = message.empty() ? (pass ? "ok" : "connect: Connection refused") : std::move(message);
  return r;
}

template <typename A>
const A* find(const std::vector<subsystem_action>& actions) {
  for (const auto& a : actions) {
    if (const auto* p = std::get_if<A>(&a)) return p;
  }
  return nullptr;
}

template <typename A>
std::size_t count(const std::vector<subsystem_action>& actions) {
  std::size_t n = 0;
  for (const auto& a : actions)
    n += std::holds_alternative<A>(a) ? 1U : 0U;
  return n;
}

// One subsystem and what the driver would do around it, minus the I/O: the breaker calls are real, the probe and
// action results are what the test says.
class subsystem_sim {
public:
  subsystem_sim(test::manual_clock& clock, subsystem_fsm_config config, std::shared_ptr<circuit_breaker> breaker)
      : clock_(clock), breaker_(std::move(breaker)), fsm(std::move(config)) {}

  fsm_environment env() const {
    fsm_environment e;
    e.now = clock_.now();
    e.mode = mode;
    e.blocking_dependency = dependency;
    if (breaker_ && fsm.config().has_breaker) {
      const auto s = breaker_->snapshot();
      e.breaker = breaker_reading{s.state, s.state == breaker_state::open ? s.next_attempt_steady : std::nullopt};
    }
    return e;
  }

  const std::vector<subsystem_action>& feed(const subsystem_event& e) {
    last = fsm.on(e, env());
    for (const auto& a : last) {
      if (const auto* p = std::get_if<act::run_probe>(&a)) asked = p->purpose;
      if (const auto* r = std::get_if<act::request_slot>(&a)) slot_for = r->heal_id;
      if (const auto* r = std::get_if<act::record_entry>(&a)) entries.push_back(*r);
      if (const auto* t = std::get_if<act::arm_timer>(&a)) armed = t->at;
      if (const auto* x = std::get_if<act::publish_exhaustion>(&a)) exhaustion = x->attempts_last_hour;
      if (const auto* q = std::get_if<act::answer_trigger>(&a)) answers.push_back(*q);
      if (const auto* f = std::get_if<act::heal_finished>(&a)) finished.push_back(*f);
      if (std::holds_alternative<act::publish_refused>(a)) refused_published = true;
      if (std::holds_alternative<act::reset_breaker>(a) && breaker_) (void)breaker_->reset(clock_.now());
    }
    return last;
  }

  // Performs the run_probe the FSM asked for, as the driver does: through the breaker for rounds and trials.
  const std::vector<subsystem_action>& answer_probe(bool pass, std::string message = {}) {
    EXPECT_TRUE(asked.has_value()) << "the FSM did not ask for a probe";
    const auto purpose = asked.value_or(probe_purpose::round);
    asked.reset();
    std::optional<admission_ticket> ticket;
    if (breaker_ && fsm.config().has_breaker && purpose != probe_purpose::verification) {
      if (purpose == probe_purpose::trial) (void)breaker_->trial_now(clock_.now());
      auto t = breaker_->allow(clock_.now());
      if (t == admission::rejected) {
        if (purpose == probe_purpose::round) return feed(ev::probe_refused{});
      } else {
        ticket = t;
      }
    }
    ev::probe_done done{purpose, probe(pass, std::move(message)), std::nullopt};
    if (ticket) {
      done.transition = pass ? breaker_->record_success(*ticket, clock_.now())
                             : breaker_->record_failure(*ticket, clock_.now(), done.result.message);
    }
    return feed(done);
  }

  // The platform grants the slot the FSM asked for.
  const std::vector<subsystem_action>& grant() { return feed(ev::slot_granted{slot_for}); }

  [[nodiscard]] bool wants_probe(probe_purpose purpose = probe_purpose::round) const {
    const auto* run = find<act::run_probe>(last);
    return run != nullptr && run->purpose == purpose;
  }

  test::manual_clock& clock_;
  std::shared_ptr<circuit_breaker> breaker_;
  subsystem_fsm fsm;
  config::healing_mode mode = config::healing_mode::automatic;
  std::optional<std::pair<std::string, health_status>> dependency;
  std::vector<subsystem_action> last;
  std::optional<probe_purpose> asked;  // the probe the FSM asked for and the test has not answered yet
  std::uint64_t slot_for = 0;          // the heal of the last request_slot
  std::vector<act::record_entry> entries;
  std::vector<act::answer_trigger> answers;
  std::vector<act::heal_finished> finished;
  std::optional<steady_time> armed;
  std::optional<int> exhaustion;
  bool refused_published = false;
};

class subsystem_fsm_test : public ::testing::Test {
protected:
  std::shared_ptr<circuit_breaker> make_breaker(int threshold = 2, double recovery_s = 10) {
    return std::make_shared<circuit_breaker>(breaker_settings(threshold, recovery_s));
  }

  // Runs the heal the FSM started through the slot and the action to the verification probe's request.
  static void grant_and_succeed(subsystem_sim& s) {
    if (find<act::request_slot>(s.last) != nullptr) s.grant();
    ASSERT_NE(find<act::run_heal>(s.last), nullptr);
    s.feed(ev::heal_done{true, "exit 0"});
  }

  // Fails `n` round probes, each one when the FSM asks for it (advancing the clock to its retry).
  static void fail_rounds(subsystem_sim& s, test::manual_clock& clock, int n) {
    for (int i = 0; i < n; ++i) {
      if (!s.wants_probe()) {
        ASSERT_TRUE(s.armed.has_value()) << "failure " << i << ": nothing scheduled";
        clock.advance(*s.armed - clock.now().steady);
        s.feed(ev::timer{});
      }
      ASSERT_TRUE(s.wants_probe()) << "failure " << i;
      s.answer_probe(false);
    }
  }

  test::manual_clock clock_;
};

std::vector<std::string> labels(const std::vector<act::record_entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries)
    out.push_back(e.action + "/" + std::string(to_string(e.result)));
  return out;
}

TEST_F(subsystem_fsm_test, first_tick_probes_and_a_pass_leaves_it_idle_and_watching) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  ASSERT_TRUE(s.wants_probe());
  EXPECT_EQ(s.fsm.current_activity(), subsystem_fsm::activity::probing);
  s.feed(ev::tick{});  // a tick while busy is dropped
  EXPECT_EQ(count<act::run_probe>(s.last), 0U);
  s.answer_probe(true);
  EXPECT_NE(find<act::publish_probe>(s.last), nullptr);
  EXPECT_NE(find<act::watch_connection>(s.last), nullptr);
  EXPECT_EQ(s.fsm.current_activity(), subsystem_fsm::activity::idle);
  EXPECT_FALSE(s.fsm.next_wakeup().has_value());
}

TEST_F(subsystem_fsm_test, failures_while_closed_retry_faster_with_doubling) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker(5));
  s.feed(ev::tick{});
  std::vector<double> delays;
  for (int i = 0; i < 4; ++i) {
    const auto at = clock_.now().steady;
    s.answer_probe(false);
    ASSERT_TRUE(s.armed.has_value());
    delays.push_back(std::chrono::duration<double>(*s.armed - at).count());
    clock_.advance(*s.armed - at);
    s.feed(ev::timer{});
  }
  EXPECT_EQ(delays, (std::vector<double>{0.5, 1, 2, 4}));
  EXPECT_TRUE(s.entries.empty());
}

TEST_F(subsystem_fsm_test, episode_fail_open_heal_verify_recover) {
  auto breaker = make_breaker(2);
  subsystem_sim s(clock_, fsm_config("redis", true), breaker);
  s.feed(ev::tick{});
  s.answer_probe(true);
  s.feed(ev::connection_dropped{});
  ASSERT_TRUE(s.wants_probe());
  fail_rounds(s, clock_, 2);
  ASSERT_EQ(breaker->state(), breaker_state::open);
  // The breaker opened: heal at once, through a slot.
  ASSERT_NE(find<act::request_slot>(s.last), nullptr);
  EXPECT_EQ(s.fsm.current_activity(), subsystem_fsm::activity::awaiting_slot);
  s.grant();
  const auto* run = find<act::run_heal>(s.last);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->rung, 0U);
  const auto* phase = find<act::publish_phase>(s.last);
  ASSERT_NE(phase, nullptr);
  EXPECT_EQ(phase->phase, heal_phase::running);
  s.feed(ev::heal_done{true, "connections dropped"});
  ASSERT_TRUE(s.wants_probe(probe_purpose::verification));
  s.answer_probe(true, "PONG");
  EXPECT_NE(find<act::reset_breaker>(s.last), nullptr);
  EXPECT_EQ(breaker->state(), breaker_state::closed);
  EXPECT_NE(find<act::release_slot>(s.last), nullptr);
  ASSERT_EQ(labels(s.entries), (std::vector<std::string>{"reconnect/success", "recovered/success"}));
  EXPECT_EQ(s.entries[0].verification, verification_result::passed);
  EXPECT_EQ(s.entries[0].detail, "connections dropped; verification passed");
  EXPECT_FALSE(s.entries[1].verification.has_value());
  EXPECT_EQ(s.fsm.consecutive_failures(), 0);
  EXPECT_FALSE(s.fsm.ladder().in_episode());
  EXPECT_FALSE(s.fsm.next_wakeup().has_value());
}

TEST_F(subsystem_fsm_test, failed_verification_is_a_failure_and_the_next_failed_trial_escalates) {
  auto breaker = make_breaker(2, 10);
  subsystem_sim s(clock_, fsm_config("redis", true, 3), breaker);
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 2);
  grant_and_succeed(s);
  s.answer_probe(false);  // verification fails
  ASSERT_EQ(s.entries.size(), 1U);
  EXPECT_EQ(s.entries[0].result, heal_result::failure);  // defect: it used to say success
  EXPECT_EQ(s.entries[0].verification, verification_result::failed);
  EXPECT_NE(s.entries[0].detail.find("verification failed: connect: Connection refused"), std::string::npos);
  ASSERT_EQ(s.finished.size(), 1U);
  EXPECT_EQ(s.finished[0].result, heal_result::failure);
  EXPECT_EQ(breaker->state(), breaker_state::open);  // a verification never moves the open period
  // The trial is due when the breaker says, not before.
  ASSERT_TRUE(s.armed.has_value());
  EXPECT_EQ(*s.armed, *breaker->snapshot().next_attempt_steady);
  clock_.advance(*s.armed - clock_.now().steady);
  s.feed(ev::timer{});
  ASSERT_TRUE(s.wants_probe());
  s.answer_probe(false);  // the trial fails: reopened, heal again one rung up
  EXPECT_EQ(breaker->state(), breaker_state::open);
  s.grant();
  const auto* run = find<act::run_heal>(s.last);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->rung, 1U);
}

TEST_F(subsystem_fsm_test, cooldown_defers_the_heal_to_its_end) {
  auto breaker = make_breaker(1, 1);
  auto config = fsm_config("redis", true);
  config.heal.cooldown_s = 30;
  subsystem_sim s(clock_, config, breaker);
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 1);
  s.grant();
  s.feed(ev::heal_done{false, "exit 1"});
  EXPECT_EQ(labels(s.entries), (std::vector<std::string>{"reconnect/failure"}));
  const auto first_attempt = clock_.now().steady;
  // The trial fails after 1 s: the heal is due but the cooldown runs until 30 s after the first attempt.
  clock_.advance(*s.armed - clock_.now().steady);
  s.feed(ev::timer{});
  s.answer_probe(false);
  EXPECT_EQ(find<act::request_slot>(s.last), nullptr);
  ASSERT_TRUE(s.fsm.next_wakeup().has_value());
  // Trials keep failing meanwhile; the heal waits for the cooldown.
  while (clock_.now().steady < first_attempt + 30s) {
    clock_.advance(*s.fsm.next_wakeup() - clock_.now().steady);
    s.feed(ev::timer{});
    if (s.wants_probe()) s.answer_probe(false);
    if (find<act::request_slot>(s.last) != nullptr) break;
  }
  ASSERT_NE(find<act::request_slot>(s.last), nullptr);
  EXPECT_GE(clock_.now().steady, first_attempt + 30s);
}

TEST_F(subsystem_fsm_test, hourly_limit_logs_one_skip_and_recovery_clears_exhaustion) {
  auto breaker = make_breaker(1, 1);
  auto config = fsm_config("redis", true, 1);
  config.heal.max_per_hour = 2;
  subsystem_sim s(clock_, config, breaker);
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 1);
  for (int i = 0; i < 6; ++i) {
    if (find<act::request_slot>(s.last) != nullptr) {
      s.grant();
      s.feed(ev::heal_done{false, "exit 1"});
    }
    clock_.advance(*s.fsm.next_wakeup() - clock_.now().steady);
    s.feed(ev::timer{});
    if (s.wants_probe()) s.answer_probe(false);
  }
  EXPECT_EQ(labels(s.entries),
            (std::vector<std::string>{"reconnect/failure", "reconnect/failure", "reconnect/skipped"}));
  EXPECT_EQ(s.entries[2].detail, "healing exhausted: 2 attempts in the last hour");
  EXPECT_EQ(s.exhaustion, 2);
  // It recovers by itself: no longer "exhausted", though the hour still holds two attempts (defect 6).
  clock_.advance(*s.fsm.next_wakeup() - clock_.now().steady);
  s.feed(ev::timer{});
  s.answer_probe(true);
  EXPECT_FALSE(s.exhaustion.has_value());
  EXPECT_EQ(s.entries.back().action, "recovered");
}

TEST_F(subsystem_fsm_test, dependency_down_skips_once_per_episode) {
  auto config = fsm_config("api", false, 1);
  config.heal.after_failures = 1;
  subsystem_sim s(clock_, config, nullptr);
  s.dependency = std::make_pair(std::string("database"), health_status::critical);
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 4);
  EXPECT_EQ(labels(s.entries), (std::vector<std::string>{"reconnect/skipped"}));
  EXPECT_EQ(s.entries[0].detail, "dependency database is critical");
  EXPECT_EQ(find<act::request_slot>(s.last), nullptr);
}

TEST_F(subsystem_fsm_test, without_breaker_heals_every_after_failures) {
  subsystem_sim s(clock_, fsm_config("api", false, 1), nullptr);
  s.feed(ev::tick{});
  int heals = 0;
  for (int i = 0; i < 6; ++i) {
    fail_rounds(s, clock_, 1);
    if (find<act::request_slot>(s.last) != nullptr) {
      ++heals;
      EXPECT_EQ(s.fsm.consecutive_failures() % 3, 0);
      s.grant();
      s.feed(ev::heal_done{false, "exit 1"});
    }
  }
  EXPECT_EQ(heals, 2);
}

TEST_F(subsystem_fsm_test, shared_breaker_refusal_never_asks_to_probe_at_once) {
  auto breaker = make_breaker(2, 10);
  subsystem_sim a(clock_, fsm_config("a", true), breaker);
  subsystem_sim b(clock_, fsm_config("b", true), breaker);
  a.feed(ev::tick{});
  fail_rounds(a, clock_, 2);  // a opens the shared breaker
  ASSERT_EQ(breaker->state(), breaker_state::open);
  // b was never probed: refused, and its status follows the breaker (defect 5), next look at the trial time.
  b.feed(ev::tick{});
  b.answer_probe(true);
  ASSERT_TRUE(b.refused_published);
  ASSERT_TRUE(b.armed.has_value());
  EXPECT_EQ(*b.armed, *breaker->snapshot().next_attempt_steady);
  // At the trial time a takes the trial (its verification is still out; it stays half-open).
  clock_.advance(*b.armed - clock_.now().steady);
  ASSERT_EQ(breaker->allow(clock_.now()), admission::trial);
  // b's round is refused while a holds the trial: it must not ask again at the same instant (defect 1: a spin).
  b.feed(ev::timer{});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(b.wants_probe()) << i;
    b.answer_probe(true);
    ASSERT_TRUE(b.armed.has_value());
    EXPECT_GT(*b.armed, clock_.now().steady) << "refusal " << i << " asked to probe again at once";
    if (i == 4) break;
    clock_.advance(*b.armed - clock_.now().steady);
    b.feed(ev::timer{});
  }
  // a's trial passes and closes the breaker: b hears of it and probes at once.
  (void)breaker->record_success(clock_.now());
  b.feed(ev::breaker_changed{breaker_state::closed});
  ASSERT_TRUE(b.wants_probe());
  b.answer_probe(true);
  EXPECT_EQ(find<act::publish_probe>(b.last)->result.status, probe_status::healthy);
}

TEST_F(subsystem_fsm_test, reload_mid_episode_waits_for_the_heal_and_keeps_history) {
  auto breaker = make_breaker(1, 1);
  subsystem_sim s(clock_, fsm_config("redis", true, 2), breaker);
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 1);
  s.grant();
  auto changed = fsm_config("redis", true, 2);
  changed.heal.max_per_hour = 1;
  s.feed(ev::reload{changed});
  EXPECT_EQ(find<act::apply_config>(s.last), nullptr);  // not while the heal runs
  s.feed(ev::heal_done{false, "exit 1"});
  EXPECT_NE(find<act::apply_config>(s.last), nullptr);
  EXPECT_EQ(s.fsm.config().heal.max_per_hour, 1);
  EXPECT_TRUE(s.wants_probe());  // a changed probe is checked at once
  // The attempt made before the reload counts against the new limit of 1.
  EXPECT_EQ(s.fsm.ladder().attempts_last_hour(clock_.now()), 1);
  EXPECT_EQ(s.exhaustion, 1);
  clock_.advance(2s);  // the trial is due
  s.answer_probe(false);
  EXPECT_EQ(labels(s.entries), (std::vector<std::string>{"reconnect/failure", "exec:restart-1/skipped"}));
}

TEST_F(subsystem_fsm_test, manual_trigger_on_a_healthy_subsystem_runs_rung_zero_as_the_trial) {
  auto breaker = make_breaker();
  subsystem_sim s(clock_, fsm_config("redis", true), breaker);
  s.feed(ev::tick{});
  s.answer_probe(true);
  s.feed(ev::trigger{7, heal_trigger::manual, "operator", std::nullopt, true});
  ASSERT_EQ(s.answers.size(), 1U);
  EXPECT_EQ(s.answers[0].kind, trigger_answer_kind::started);
  const auto* run = find<act::run_heal>(s.last);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->rung, 0U);
  EXPECT_EQ(run->heal_id, 7U);
  s.feed(ev::heal_done{true, "exit 0"});
  ASSERT_TRUE(s.wants_probe(probe_purpose::trial));
  s.answer_probe(true);
  ASSERT_EQ(s.entries.size(), 1U);  // healthy before: no "recovered"
  EXPECT_EQ(s.entries[0].heal_id, 7U);
  EXPECT_EQ(s.entries[0].trigger, heal_trigger::manual);
  EXPECT_EQ(s.entries[0].detail, "reason: operator; exit 0; verification passed");
  ASSERT_EQ(s.finished.size(), 1U);
  EXPECT_EQ(s.finished[0].result, heal_result::success);
  const auto* release = find<act::release_slot>(s.last);
  ASSERT_NE(release, nullptr);
  EXPECT_EQ(release->heal_id, 7U);
}

TEST_F(subsystem_fsm_test, manual_trigger_refusals_in_order) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  s.answer_probe(true);
  const auto refusal = [&](ev::trigger t) {
    s.answers.clear();
    s.feed(t);
    EXPECT_EQ(s.answers.size(), 1U);
    return s.answers.empty() ? std::optional<heal_refusal>{} : s.answers[0].refusal;
  };
  EXPECT_EQ(refusal({1, heal_trigger::manual, "", std::nullopt, false}), heal_refusal::platform_cap_full);
  s.dependency = std::make_pair(std::string("database"), health_status::recovering);
  EXPECT_EQ(refusal({2, heal_trigger::manual, "", std::nullopt, true}), heal_refusal::dependency_critical);
  EXPECT_EQ(s.answers[0].message, "dependency database is recovering");
  s.dependency.reset();
  EXPECT_EQ(refusal({3, heal_trigger::manual, "", std::nullopt, true}), std::nullopt);  // started
  EXPECT_EQ(refusal({4, heal_trigger::manual, "", std::nullopt, true}), heal_refusal::heal_in_progress);
  EXPECT_EQ(refusal({5, heal_trigger::log, "", std::nullopt, true}), heal_refusal::heal_in_progress);

  subsystem_sim bare(clock_, fsm_config("bare", false, 0), nullptr);
  bare.feed(ev::tick{});
  bare.answer_probe(true);
  bare.feed(ev::trigger{6, heal_trigger::manual, "", std::nullopt, true});
  ASSERT_EQ(bare.answers.size(), 1U);
  EXPECT_EQ(bare.answers[0].refusal, heal_refusal::no_heal_actions);
}

TEST_F(subsystem_fsm_test, manual_trigger_during_a_round_runs_when_the_round_ends) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  ASSERT_TRUE(s.wants_probe());
  s.feed(ev::trigger{9, heal_trigger::manual, "", std::nullopt, true});
  ASSERT_EQ(s.answers.size(), 1U);
  EXPECT_EQ(s.answers[0].kind, trigger_answer_kind::started);
  EXPECT_EQ(find<act::run_heal>(s.last), nullptr);
  s.answer_probe(true);
  const auto* run = find<act::run_heal>(s.last);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->heal_id, 9U);
}

TEST_F(subsystem_fsm_test, log_trigger_keeps_the_automatic_limits) {
  auto config = fsm_config("redis", true);
  config.heal.cooldown_s = 60;
  config.heal.max_per_hour = 2;
  subsystem_sim s(clock_, config, make_breaker());
  s.feed(ev::tick{});
  s.answer_probe(true);
  const auto trigger = [&](std::uint64_t id, bool slot = true) {
    s.answers.clear();
    s.feed(ev::trigger{id, heal_trigger::log, "rule oom", std::nullopt, slot});
    return s.answers.at(0);
  };
  s.mode = config::healing_mode::off;
  EXPECT_EQ(trigger(1).refusal, heal_refusal::healing_mode);
  s.mode = config::healing_mode::automatic;
  EXPECT_EQ(trigger(2, false).refusal, heal_refusal::platform_cap_full);
  EXPECT_EQ(trigger(3).kind, trigger_answer_kind::started);
  s.feed(ev::heal_done{false, "exit 1"});
  EXPECT_EQ(trigger(4).refusal, heal_refusal::cooldown);
  clock_.advance(61s);
  s.mode = config::healing_mode::dry_run;
  EXPECT_EQ(trigger(5).refusal, heal_refusal::healing_mode);
  EXPECT_EQ(s.entries.back().result, heal_result::skipped);
  EXPECT_EQ(s.entries.back().detail, "reason: rule oom; dry run");
  EXPECT_NE(find<act::release_slot>(s.last), nullptr);
  clock_.advance(61s);
  s.mode = config::healing_mode::automatic;
  EXPECT_EQ(trigger(6).refusal, heal_refusal::hourly_limit);
  EXPECT_EQ(s.answers[0].message, "healing exhausted: 2 attempts in the last hour");
}

TEST_F(subsystem_fsm_test, log_trigger_with_its_own_action_leaves_the_ladder_where_it_is) {
  subsystem_sim s(clock_, fsm_config("redis", true, 2), make_breaker());
  s.feed(ev::tick{});
  s.answer_probe(true);
  s.feed(ev::trigger{1, heal_trigger::log, "rule oom", heal_override{"redis:purge", 500}, true});
  const auto* run = find<act::run_heal>(s.last);
  ASSERT_NE(run, nullptr);
  EXPECT_FALSE(run->rung.has_value());
  EXPECT_EQ(run->timeout_ms, 500);
  s.feed(ev::heal_done{true, "OK"});
  ASSERT_TRUE(s.wants_probe(probe_purpose::verification));  // log heals verify outside the breaker
  s.answer_probe(true);
  EXPECT_EQ(labels(s.entries), (std::vector<std::string>{"redis:purge/success"}));
  EXPECT_EQ(s.fsm.ladder().current_rung(), 0U);
  EXPECT_EQ(s.fsm.ladder().attempts_last_hour(clock_.now()), 1);
}

TEST_F(subsystem_fsm_test, maintenance_runs_without_slot_phase_or_verification_and_queues_when_busy) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  ASSERT_TRUE(s.wants_probe());
  s.feed(ev::trigger{1, heal_trigger::maintenance, "", heal_override{"redis:purge-memory", 1000}, false});
  ASSERT_EQ(s.answers.size(), 1U);
  EXPECT_EQ(s.answers[0].kind, trigger_answer_kind::deferred);
  s.answer_probe(true);
  ASSERT_NE(find<act::run_heal>(s.last), nullptr);
  EXPECT_EQ(find<act::request_slot>(s.last), nullptr);
  EXPECT_EQ(find<act::publish_phase>(s.last), nullptr);
  s.feed(ev::heal_done{true, "OK"});
  EXPECT_EQ(find<act::run_probe>(s.last), nullptr);
  ASSERT_EQ(s.entries.size(), 1U);
  EXPECT_EQ(s.entries[0].trigger, heal_trigger::maintenance);
  EXPECT_EQ(s.entries[0].result, heal_result::success);
  EXPECT_FALSE(s.entries[0].verification.has_value());
  EXPECT_EQ(s.fsm.ladder().attempts_last_hour(clock_.now()), 0);
  EXPECT_EQ(s.fsm.current_activity(), subsystem_fsm::activity::idle);
}

TEST_F(subsystem_fsm_test, automatic_trigger_answers_what_the_ladder_decided) {
  auto config = fsm_config("redis", true);
  config.heal.cooldown_s = 30;
  subsystem_sim s(clock_, config, make_breaker(1, 1));
  s.feed(ev::tick{});
  fail_rounds(s, clock_, 1);
  s.grant();
  s.feed(ev::heal_done{false, "exit 1"});
  s.feed(ev::trigger{4, heal_trigger::automatic, "", std::nullopt, false});
  ASSERT_EQ(s.answers.size(), 1U);
  EXPECT_EQ(s.answers[0].kind, trigger_answer_kind::deferred);
  ASSERT_TRUE(s.answers[0].until.has_value());
}

TEST_F(subsystem_fsm_test, automatic_trigger_waits_for_a_slot_and_gives_back_that_slot) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker(5));
  s.feed(ev::tick{});
  s.answer_probe(false);
  s.feed(ev::trigger{5, heal_trigger::automatic, "", std::nullopt, false});
  ASSERT_EQ(s.answers.size(), 1U);
  EXPECT_EQ(s.answers[0].kind, trigger_answer_kind::started);
  const auto* request = find<act::request_slot>(s.last);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->heal_id, 5U);
  s.feed(ev::slot_granted{4});  // someone else's grant: handed straight back
  ASSERT_NE(find<act::release_slot>(s.last), nullptr);
  EXPECT_EQ(find<act::release_slot>(s.last)->heal_id, 4U);
  s.grant();
  ASSERT_NE(find<act::run_heal>(s.last), nullptr);
  s.feed(ev::heal_done{false, "exit 1"});
  const auto* release = find<act::release_slot>(s.last);
  ASSERT_NE(release, nullptr);
  EXPECT_EQ(release->heal_id, 5U);
  ASSERT_EQ(s.finished.size(), 1U);
  EXPECT_EQ(s.finished[0].id, 5U);
}

TEST_F(subsystem_fsm_test, stop_refuses_queued_and_new_triggers_and_ends_probing) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  s.feed(ev::trigger{1, heal_trigger::manual, "", std::nullopt, true});
  s.feed(ev::stop{});
  ASSERT_EQ(s.answers.size(), 2U);
  EXPECT_EQ(s.answers[1].refusal, heal_refusal::shutting_down);
  EXPECT_NE(find<act::release_slot>(s.last), nullptr);
  s.answer_probe(true);
  EXPECT_EQ(find<act::run_heal>(s.last), nullptr);
  s.feed(ev::tick{});
  EXPECT_EQ(find<act::run_probe>(s.last), nullptr);
  s.feed(ev::trigger{2, heal_trigger::manual, "", std::nullopt, true});
  EXPECT_EQ(s.answers.back().refusal, heal_refusal::shutting_down);
}

TEST_F(subsystem_fsm_test, stale_slot_is_given_back) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker());
  s.feed(ev::tick{});
  s.answer_probe(true);
  s.grant();
  EXPECT_NE(find<act::release_slot>(s.last), nullptr);
  EXPECT_EQ(find<act::run_heal>(s.last), nullptr);
}

TEST_F(subsystem_fsm_test, probe_that_could_not_start_retries_without_counting) {
  subsystem_sim s(clock_, fsm_config("redis", true), make_breaker(1));
  s.feed(ev::tick{});
  probe_result busy;
  busy.started = false;
  busy.message = "timeout (worker busy)";
  s.feed(ev::probe_done{probe_purpose::round, busy, std::nullopt});
  EXPECT_EQ(s.fsm.consecutive_failures(), 0);
  ASSERT_TRUE(s.armed.has_value());
  EXPECT_EQ(*s.armed - clock_.now().steady, to_duration(0.5));
}

}  // namespace
}  // namespace healthd
