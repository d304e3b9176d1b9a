#pragma once
// One subsystem's life as a sans-I/O state machine (docs/architecture.md, "The subsystem FSM"): probe scheduling,
// failure episodes, breaker bookkeeping and heals. `on(event, environment)` returns the actions to perform, in
// order; the driver (src/engine/subsystem_runner.cpp) performs them and feeds their results back as events. It
// decides nothing itself. Pure: no I/O, no clock reads (`now` comes in the environment). Not thread-safe: the
// driver serialises calls on the subsystem's strand.
//
// At most one piece of work is in flight at a time: a probe round, a heal (waiting for a slot, action, verification)
// or a maintenance task. Ticks that find the subsystem busy are dropped; triggers are answered at once (started,
// deferred or refused), and a started heal is answered again when it finishes.

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/probe_result.hpp"
#include "healthd/core/status.hpp"
#include "healthd/engine/heal_ladder.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace healthd {

// What the FSM needs of the subsystem's config.
struct subsystem_fsm_config {
  std::string name;
  bool has_breaker = false;
  double retry_interval_s = 0.5;
  double loop_interval_s = 30;
  config::heal_config heal;

  [[nodiscard]] static subsystem_fsm_config from(const config::subsystem_config& s, double loop_interval_s);
};

// The breaker as the driver read it just before the event (nullopt: the subsystem has no breaker).
struct breaker_reading {
  breaker_state state = breaker_state::closed;
  std::optional<steady_time> next_attempt;  // while open: when the half-open trial is due
};

// The world around the event, read by the driver just before calling on().
struct fsm_environment {
  instant now;
  config::healing_mode mode = config::healing_mode::automatic;
  std::optional<std::pair<std::string, health_status>> blocking_dependency;  // see blocking_dependency()
  std::optional<breaker_reading> breaker;
};

enum class probe_purpose {
  round,         // a scheduled probe, through the breaker
  verification,  // after a successful heal action, outside the breaker (a pass resets it)
  trial,         // after a successful forced heal: the breaker's half-open trial (trial_now, then allow)
};

// A heal action given with a trigger instead of the ladder's current rung (a log rule's action, a maintenance
// task). The driver holds the action object; the FSM only needs its label and deadline.
struct heal_override {
  std::string label;  // as in the healing log: "redis:purge-memory"
  int timeout_ms = 10000;
};

namespace fsm_event {
struct tick {};                // a loop tick, or start: probe now unless busy
struct timer {};               // the timer armed by arm_timer fired (or was overtaken: the FSM checks what is due)
struct connection_dropped {};  // the idle kept connection became readable: probe now
struct probe_done {
  probe_purpose purpose = probe_purpose::round;
  probe_result result;
  // What recording the result in the breaker caused (round and trial probes only).
  std::optional<breaker_transition> transition;
};
struct probe_refused {};  // a round probe was rejected by the breaker (open, or its trial is held elsewhere)
// Another subsystem's call moved the breaker this subsystem shares.
struct breaker_changed {
  breaker_state to = breaker_state::closed;
};
struct slot_granted {
  std::uint64_t heal_id = 0;  // as in the request_slot it answers
};
struct slot_unavailable {};  // the platform's heal slots shut down
struct heal_done {
  bool success = false;
  std::string message;
};
struct trigger {
  std::uint64_t id = 0;  // echoed in answer_trigger and heal_finished
  heal_trigger kind = heal_trigger::manual;
  std::string reason;
  std::optional<heal_override> override_action;
  bool slot_held = false;  // manual and log triggers: the driver took a heal slot (without waiting) beforehand
};
struct reload {
  subsystem_fsm_config config;
};
struct stop {};
}  // namespace fsm_event

using subsystem_event = std::variant<fsm_event::tick, fsm_event::timer, fsm_event::connection_dropped,
                                     fsm_event::probe_done, fsm_event::probe_refused, fsm_event::breaker_changed,
                                     fsm_event::slot_granted, fsm_event::slot_unavailable, fsm_event::heal_done,
                                     fsm_event::trigger, fsm_event::reload, fsm_event::stop>;

enum class trigger_answer_kind { started, deferred, refused };

namespace fsm_action {
struct run_probe {
  probe_purpose purpose = probe_purpose::round;
};
struct arm_timer {
  steady_time at{};  // replaces any earlier arm_timer; steady_time::max() disarms
};
struct watch_connection {};  // idle now: watch the probe's kept connection (the driver unwatches before any work)
struct request_slot {        // wait for a platform heal slot: slot_granted or slot_unavailable follows
  std::uint64_t heal_id = 0;
};
struct release_slot {
  std::uint64_t heal_id = 0;  // give back the slot held for this heal (a no-op when none is held)
};
struct run_heal {
  std::uint64_t heal_id = 0;        // the trigger's id (0: an automatic heal the FSM started itself)
  std::optional<std::size_t> rung;  // nullopt: the trigger's override action
  int timeout_ms = 10000;
};
struct apply_config {};   // a reload waited for the subsystem to be idle: swap in the new probe and actions now
struct reset_breaker {};  // a verification outside the breaker passed: close it
struct record_entry {
  std::uint64_t heal_id = 0;  // the trigger id of the heal it belongs to (0: none)
  std::string action;
  heal_trigger trigger = heal_trigger::automatic;
  heal_result result = heal_result::success;
  std::optional<verification_result> verification;
  std::string detail;
};
struct publish_probe {
  probe_result result;
};
struct publish_refused {};  // rejected by its breaker before it was ever probed
struct publish_phase {
  heal_phase phase = heal_phase::idle;
};
struct publish_exhaustion {
  std::optional<int> attempts_last_hour;  // nullopt: not exhausted (or not failing)
};
struct answer_trigger {
  std::uint64_t id = 0;
  trigger_answer_kind kind = trigger_answer_kind::refused;
  std::optional<heal_refusal> refusal;  // when refused
  std::string message;                  // when refused or deferred
  std::optional<steady_time> until;     // when deferred: nullopt means "once the current work ends"
};
struct heal_finished {
  std::uint64_t id = 0;
  heal_result result = heal_result::failure;  // success: the action succeeded and its verification, if any, passed
};
}  // namespace fsm_action

using subsystem_action =
    std::variant<fsm_action::run_probe, fsm_action::arm_timer, fsm_action::watch_connection, fsm_action::request_slot,
                 fsm_action::release_slot, fsm_action::run_heal, fsm_action::apply_config, fsm_action::reset_breaker,
                 fsm_action::record_entry, fsm_action::publish_probe, fsm_action::publish_refused,
                 fsm_action::publish_phase, fsm_action::publish_exhaustion, fsm_action::answer_trigger,
                 fsm_action::heal_finished>;

class subsystem_fsm {
public:
  enum class activity { idle, probing, awaiting_slot, healing, verifying };

  explicit subsystem_fsm(subsystem_fsm_config config);

  [[nodiscard]] std::vector<subsystem_action> on(const subsystem_event& event, const fsm_environment& env);

  [[nodiscard]] activity current_activity() const noexcept { return activity_; }
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  [[nodiscard]] int consecutive_failures() const noexcept { return consecutive_failures_; }
  [[nodiscard]] const heal_ladder& ladder() const noexcept { return ladder_; }
  [[nodiscard]] const subsystem_fsm_config& config() const noexcept { return config_; }
  // The earliest moment something is due (what the last arm_timer asked for); nullopt when nothing is.
  [[nodiscard]] std::optional<steady_time> next_wakeup() const;

private:
  struct heal_in_flight {
    std::uint64_t id = 0;
    heal_trigger kind = heal_trigger::automatic;
    std::optional<std::size_t> rung;
    std::string label;
    std::string reason;
    int timeout_ms = 10000;
    bool counts_toward_ladder = true;  // false for maintenance tasks
    bool verify = true;                // false for maintenance tasks
    bool was_failing = false;
    bool slot_held = false;
    std::string action_message;
  };
  using actions = std::vector<subsystem_action>;

  void on_probe_done(const fsm_event::probe_done& e, const fsm_environment& env, actions& out);
  void on_round_result(const fsm_event::probe_done& e, const fsm_environment& env, actions& out);
  void on_verification(const fsm_event::probe_done& e, const fsm_environment& env, actions& out);
  void on_refused(const fsm_environment& env, actions& out);
  void on_breaker_changed(const fsm_event::breaker_changed& e, const fsm_environment& env);
  void on_trigger(const fsm_event::trigger& e, const fsm_environment& env, actions& out);
  void on_heal_done(const fsm_event::heal_done& e, const fsm_environment& env, actions& out);

  // An automatic trigger (breaker opened, trial failed, N failures, cooldown over); `id` 0 when the FSM triggered
  // it itself, else the external trigger to answer.
  void auto_heal(const fsm_environment& env, std::uint64_t id, actions& out);
  void start_heal(heal_in_flight heal, const fsm_environment& env, actions& out);
  void finish_heal(heal_result result, const fsm_environment& env, actions& out);
  void end_episode();
  void schedule_after_failure(const fsm_environment& env);
  void schedule_from_breaker(const fsm_environment& env);
  void publish_exhaustion(const fsm_environment& env, actions& out);
  // With nothing in flight: start what is due (queued work first), or arm the timer for what comes next.
  void advance(const fsm_environment& env, actions& out);

  [[nodiscard]] bool still_failing(const fsm_environment& env) const;
  [[nodiscard]] std::string rung_label(std::size_t rung) const;

  subsystem_fsm_config config_;
  std::optional<subsystem_fsm_config> pending_config_;
  heal_ladder ladder_;
  activity activity_ = activity::idle;
  bool stopping_ = false;
  bool probe_requested_ = false;
  bool ever_probed_ = false;
  bool healed_in_episode_ = false;
  int consecutive_failures_ = 0;
  int refusals_while_half_open_ = 0;
  std::optional<steady_time> retry_at_;
  std::optional<steady_time> trial_at_;
  std::optional<steady_time> heal_retry_at_;
  std::optional<heal_in_flight> heal_;       // the heal in flight (activity awaiting_slot, healing, verifying)
  std::deque<heal_in_flight> queued_;        // triggers accepted while a probe round was running
  std::optional<steady_time> armed_;         // what the last arm_timer said
  std::optional<int> published_exhaustion_;  // what the last publish_exhaustion said
};

}  // namespace healthd
