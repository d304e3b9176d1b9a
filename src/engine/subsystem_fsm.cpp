#include "healthd/engine/subsystem_fsm.hpp"

#include "healthd/core/overloaded.hpp"
#include "healthd/core/status_rules.hpp"
#include "healthd/engine/schedule.hpp"

#include <algorithm>
#include <cassert>

namespace healthd {

namespace {

std::string with_reason(const std::string& reason, const std::string& message) {
  return reason.empty() ? message : "reason: " + reason + "; " + message;
}

}  // namespace

subsystem_fsm_config subsystem_fsm_config::from(const config::subsystem_config& s, double loop_interval_s) {
  return {s.name, s.breaker.has_value(), s.retry_interval_s, loop_interval_s, s.heal};
}

subsystem_fsm::subsystem_fsm(subsystem_fsm_config config) : config_(std::move(config)), ladder_(config_.heal) {}

std::optional<steady_time> subsystem_fsm::next_wakeup() const { return armed_; }

std::vector<subsystem_action> subsystem_fsm::on(const subsystem_event& event, const fsm_environment& env) {
  actions out;
  std::visit(overloaded{
                 [&](const fsm_event::tick&) {
                   // A tick while busy is dropped: never two rounds of one subsystem at once.
                   if (activity_ == activity::idle) probe_requested_ = true;
                 },
                 [&](const fsm_event::timer&) { armed_.reset(); },
                 [&](const fsm_event::connection_dropped&) {
                   if (activity_ == activity::idle) probe_requested_ = true;
                 },
                 [&](const fsm_event::probe_done& e) { on_probe_done(e, env, out); },
                 [&](const fsm_event::probe_refused&) { on_refused(env, out); },
                 [&](const fsm_event::breaker_changed& e) { on_breaker_changed(e, env); },
                 [&](const fsm_event::slot_granted& e) {
                   if (activity_ != activity::awaiting_slot || !heal_ || heal_->id != e.heal_id) {
                     out.emplace_back(fsm_action::release_slot{e.heal_id});  // not wanted any more
                     return;
                   }
                   heal_->slot_held = true;
                   if (stopping_) {
                     finish_heal(heal_result::failure, env, out);
                     return;
                   }
                   activity_ = activity::healing;
                   out.emplace_back(fsm_action::publish_phase{heal_phase::running});
                   out.emplace_back(fsm_action::run_heal{heal_->id, heal_->rung, heal_->timeout_ms});
                 },
                 [&](const fsm_event::slot_unavailable&) {
                   if (activity_ == activity::awaiting_slot && heal_) finish_heal(heal_result::failure, env, out);
                 },
                 [&](const fsm_event::heal_done& e) { on_heal_done(e, env, out); },
                 [&](const fsm_event::trigger& e) { on_trigger(e, env, out); },
                 [&](const fsm_event::reload& e) { pending_config_ = e.config; },
                 [&](const fsm_event::stop&) {
                   stopping_ = true;
                   for (auto& queued : queued_) {
                     out.emplace_back(fsm_action::answer_trigger{queued.id, trigger_answer_kind::refused,
                                                                 heal_refusal::shutting_down,
                                                                 "the daemon is shutting down", std::nullopt});
                     if (queued.slot_held) out.emplace_back(fsm_action::release_slot{queued.id});
                   }
                   queued_.clear();
                 },
             },
             event);
  if (activity_ == activity::idle) advance(env, out);
  return out;
}

void subsystem_fsm::on_probe_done(const fsm_event::probe_done& e, const fsm_environment& env, actions& out) {
  if (e.purpose == probe_purpose::round) {
    if (activity_ != activity::probing) return;  // stale: cannot happen with one driver, guarded all the same
    activity_ = activity::idle;
    on_round_result(e, env, out);
    return;
  }
  if (activity_ != activity::verifying || !heal_) return;
  on_verification(e, env, out);
}

void subsystem_fsm::on_round_result(const fsm_event::probe_done& e, const fsm_environment& env, actions& out) {
  const auto now = env.now.steady;
  ever_probed_ = true;
  refusals_while_half_open_ = 0;
  out.emplace_back(fsm_action::publish_probe{e.result});
  if (!e.result.started) {
    retry_at_ = now + to_duration(config_.retry_interval_s);
    return;
  }
  if (passed(e.result.status)) {
    consecutive_failures_ = 0;
    retry_at_.reset();
    trial_at_.reset();
    heal_retry_at_.reset();
    if (healed_in_episode_) {
      healed_in_episode_ = false;
      out.emplace_back(fsm_action::record_entry{0, "recovered", heal_trigger::automatic, heal_result::success,
                                                std::nullopt, "probe passed after healing: " + e.result.message});
    }
    ladder_.on_probe_passed();
    publish_exhaustion(env, out);
    return;
  }
  ++consecutive_failures_;
  const auto delay = retry_delay(config_.retry_interval_s, config_.loop_interval_s, consecutive_failures_);
  if (config_.has_breaker) {
    const bool opened = e.transition && e.transition->to == breaker_state::open;
    if (opened) {
      // The breaker opened (or a trial failed and it reopened): heal now, probe again when the trial is due.
      retry_at_.reset();
      schedule_from_breaker(env);
      auto_heal(env, 0, out);
    } else if (!env.breaker || env.breaker->state == breaker_state::closed) {
      retry_at_ = now + delay;
    } else {
      // A late failure while another caller's result moved the breaker: follow the breaker.
      retry_at_.reset();
      schedule_from_breaker(env);
    }
    return;
  }
  retry_at_ = now + delay;
  if (heal_due_without_breaker(consecutive_failures_, config_.heal.after_failures)) auto_heal(env, 0, out);
}

void subsystem_fsm::on_verification(const fsm_event::probe_done& e, const fsm_environment& env, actions& out) {
  auto& heal = *heal_;
  const bool verified = e.result.started && passed(e.result.status);
  ever_probed_ = true;
  out.emplace_back(fsm_action::publish_probe{e.result});
  if (verified && e.purpose == probe_purpose::verification && config_.has_breaker) {
    out.emplace_back(fsm_action::reset_breaker{});
  }
  out.emplace_back(fsm_action::publish_phase{heal_phase::idle});
  const auto detail = with_reason(heal.reason, heal.action_message) +
                      (verified ? "; verification passed" : "; verification failed: " + e.result.message);
  out.emplace_back(
      fsm_action::record_entry{heal.id, heal.label, heal.kind, verified ? heal_result::success : heal_result::failure,
                               verified ? verification_result::passed : verification_result::failed, detail});
  if (verified) {
    if (heal.was_failing) {
      out.emplace_back(fsm_action::record_entry{heal.id, "recovered", heal.kind, heal_result::success, std::nullopt,
                                                "verification passed: " + e.result.message});
    }
    end_episode();
  } else {
    schedule_after_failure(env);
  }
  finish_heal(verified ? heal_result::success : heal_result::failure, env, out);
}

void subsystem_fsm::end_episode() {
  consecutive_failures_ = 0;
  retry_at_.reset();
  trial_at_.reset();
  heal_retry_at_.reset();
  healed_in_episode_ = false;
  ladder_.on_probe_passed();
}

void subsystem_fsm::schedule_after_failure(const fsm_environment& env) {
  if (config_.has_breaker) {
    schedule_from_breaker(env);
    if (env.breaker && env.breaker->state == breaker_state::closed) {
      retry_at_ = env.now.steady +
                  retry_delay(config_.retry_interval_s, config_.loop_interval_s, std::max(consecutive_failures_, 1));
    }
    return;
  }
  retry_at_ = env.now.steady +
              retry_delay(config_.retry_interval_s, config_.loop_interval_s, std::max(consecutive_failures_, 1));
}

void subsystem_fsm::schedule_from_breaker(const fsm_environment& env) {
  if (!env.breaker) return;
  switch (env.breaker->state) {
    case breaker_state::open:
      trial_at_ = env.breaker->next_attempt.value_or(env.now.steady);
      refusals_while_half_open_ = 0;
      break;
    case breaker_state::half_open:
      // Someone else holds the trial (a subsystem sharing the breaker, or a forced heal): its result will move the
      // breaker (breaker_changed). Look again after a growing pause in case it never reports — never at once, which
      // would spin.
      ++refusals_while_half_open_;
      trial_at_ =
          env.now.steady + retry_delay(config_.retry_interval_s, config_.loop_interval_s, refusals_while_half_open_);
      break;
    case breaker_state::closed: trial_at_.reset(); break;
  }
}

void subsystem_fsm::on_refused(const fsm_environment& env, actions& out) {
  if (activity_ != activity::probing) return;
  activity_ = activity::idle;
  if (!ever_probed_) out.emplace_back(fsm_action::publish_refused{});
  if (env.breaker && env.breaker->state == breaker_state::closed) {
    // It closed between the refusal and now: probe again shortly.
    retry_at_ = env.now.steady + to_duration(config_.retry_interval_s);
    return;
  }
  schedule_from_breaker(env);
}

void subsystem_fsm::on_breaker_changed(const fsm_event::breaker_changed& e, const fsm_environment& env) {
  const bool waiting_on_breaker = trial_at_.has_value() || consecutive_failures_ > 0 || !ever_probed_;
  if (!waiting_on_breaker) return;
  switch (e.to) {
    case breaker_state::closed:
      // The subsystem sharing the breaker recovered: find out now whether this one has too.
      trial_at_.reset();
      probe_requested_ = true;
      break;
    case breaker_state::open: schedule_from_breaker(env); break;
    case breaker_state::half_open: break;
  }
}

void subsystem_fsm::on_trigger(const fsm_event::trigger& e, const fsm_environment& env, actions& out) {
  const auto answer = [&](trigger_answer_kind kind, std::optional<heal_refusal> refusal, std::string message,
                          std::optional<steady_time> until = std::nullopt) {
    out.emplace_back(fsm_action::answer_trigger{e.id, kind, refusal, std::move(message), until});
  };
  const auto refuse = [&](heal_refusal r, std::string message) {
    answer(trigger_answer_kind::refused, r, std::move(message));
  };
  if (stopping_) return refuse(heal_refusal::shutting_down, "the daemon is shutting down");

  heal_in_flight h;
  h.id = e.id;
  h.kind = e.kind;
  h.reason = e.reason;
  if (e.override_action) {
    h.label = e.override_action->label;
    h.timeout_ms = e.override_action->timeout_ms;
  }
  h.slot_held = e.slot_held;

  if (e.kind == heal_trigger::maintenance) {
    // The optimization loop's tasks: no limits, no slot, no verification, and they never move the ladder.
    if (!e.override_action) return refuse(heal_refusal::no_heal_actions, "a maintenance task needs its action");
    h.counts_toward_ladder = false;
    h.verify = false;
    if (activity_ != activity::idle) {
      queued_.push_back(std::move(h));
      return answer(trigger_answer_kind::deferred, std::nullopt, "queued behind the work in progress");
    }
    answer(trigger_answer_kind::started, std::nullopt, {});
    start_heal(std::move(h), env, out);
    return;
  }

  const bool heal_pending =
      heal_.has_value() || std::any_of(queued_.begin(), queued_.end(),
                                       [](const heal_in_flight& q) { return q.kind != heal_trigger::maintenance; });
  if (heal_pending) return refuse(heal_refusal::heal_in_progress, "a heal of " + config_.name + " is already running");

  if (e.kind == heal_trigger::automatic) {
    if (activity_ != activity::idle) {
      return answer(trigger_answer_kind::deferred, std::nullopt, "a probe of " + config_.name + " is running");
    }
    auto_heal(env, e.id, out);
    return;
  }

  if (env.blocking_dependency) {
    return refuse(heal_refusal::dependency_critical,
                  dependency_message(env.blocking_dependency->first, env.blocking_dependency->second));
  }
  if (!e.override_action && config_.heal.actions.empty()) {
    return refuse(heal_refusal::no_heal_actions, config_.name + " has no heal actions configured");
  }
  if (e.kind == heal_trigger::log) {
    // The same limits as an automatic heal; the caller counts the refusal.
    if (env.mode == config::healing_mode::off) return refuse(heal_refusal::healing_mode, "healing.mode is off");
    if (const auto n = ladder_.exhausted(env.now))
      return refuse(heal_refusal::hourly_limit, healing_exhausted_message(*n));
    if (ladder_.cooldown_until(env.now)) {
      return refuse(heal_refusal::cooldown, "in cooldown (heal.cooldown_s " + std::to_string(config_.heal.cooldown_s) +
                                                " s since the last attempt)");
    }
  }
  if (!e.slot_held) {
    return refuse(heal_refusal::platform_cap_full, "the platform-wide heal cap (healing.max_concurrent) is reached");
  }
  if (e.kind == heal_trigger::log && env.mode == config::healing_mode::dry_run) {
    // As an automatic heal in dry run: logged as skipped and counted, never run.
    const auto label = h.label.empty() ? rung_label(ladder_.current_rung()) : h.label;
    if (e.override_action) {
      ladder_.on_override(env.now);
    } else {
      (void)ladder_.on_manual(env.now);
    }
    out.emplace_back(fsm_action::record_entry{e.id, label, e.kind, heal_result::skipped, std::nullopt,
                                              with_reason(e.reason, "dry run")});
    out.emplace_back(fsm_action::release_slot{e.id});
    publish_exhaustion(env, out);
    return refuse(heal_refusal::healing_mode, "healing.mode is dry_run: logged as skipped");
  }

  // Manual and log heals: the current rung (bypassing cooldown and limit for manual, both checked above for log),
  // counted toward the hourly limit; or the trigger's own action.
  if (e.override_action) {
    ladder_.on_override(env.now);
  } else {
    h.rung = ladder_.on_manual(env.now).value_or(0);
    h.label = rung_label(*h.rung);
    h.timeout_ms = config_.heal.actions[*h.rung].timeout_ms;
  }
  answer(trigger_answer_kind::started, std::nullopt, {});
  if (activity_ == activity::probing) {
    queued_.push_back(std::move(h));  // runs when the round ends
    return;
  }
  start_heal(std::move(h), env, out);
}

void subsystem_fsm::auto_heal(const fsm_environment& env, std::uint64_t id, actions& out) {
  const auto answer = [&](trigger_answer_kind kind, std::optional<heal_refusal> refusal, std::string message,
                          std::optional<steady_time> until = std::nullopt) {
    if (id != 0) out.emplace_back(fsm_action::answer_trigger{id, kind, refusal, std::move(message), until});
  };
  if (heal_ || !queued_.empty()) return answer(trigger_answer_kind::refused, heal_refusal::heal_in_progress, "busy");
  heal_context context;
  context.mode = env.mode;
  if (env.blocking_dependency) {
    context.blocking_dependency = env.blocking_dependency->first;
    context.blocking_status = env.blocking_dependency->second;
  }
  const auto d = ladder_.on_trigger(env.now, context);
  switch (d.what) {
    case heal_decision::kind::none:
      publish_exhaustion(env, out);
      if (env.mode == config::healing_mode::off) {
        return answer(trigger_answer_kind::refused, heal_refusal::healing_mode, "healing.mode is off");
      }
      if (config_.heal.actions.empty()) {
        return answer(trigger_answer_kind::refused, heal_refusal::no_heal_actions, "no heal actions configured");
      }
      return answer(trigger_answer_kind::refused, heal_refusal::heal_in_progress, "already logged as skipped");
    case heal_decision::kind::defer:
      heal_retry_at_ = d.retry_at;
      return answer(trigger_answer_kind::deferred, std::nullopt, "in cooldown", d.retry_at);
    case heal_decision::kind::skip:
      out.emplace_back(fsm_action::record_entry{id, rung_label(ladder_.current_rung()), heal_trigger::automatic,
                                                heal_result::skipped, std::nullopt, d.detail});
      publish_exhaustion(env, out);
      return answer(trigger_answer_kind::refused,
                    env.blocking_dependency ? heal_refusal::dependency_critical : heal_refusal::hourly_limit, d.detail);
    case heal_decision::kind::run: break;
  }
  if (d.dry_run) {
    out.emplace_back(fsm_action::record_entry{id, rung_label(d.rung), heal_trigger::automatic, heal_result::skipped,
                                              std::nullopt, d.detail});
    publish_exhaustion(env, out);
    return answer(trigger_answer_kind::refused, heal_refusal::healing_mode, "healing.mode is dry_run");
  }
  heal_in_flight h;
  h.id = id;
  h.kind = heal_trigger::automatic;
  h.rung = d.rung;
  h.label = rung_label(d.rung);
  h.timeout_ms = config_.heal.actions[d.rung].timeout_ms;
  answer(trigger_answer_kind::started, std::nullopt, {});
  start_heal(std::move(h), env, out);
}

void subsystem_fsm::start_heal(heal_in_flight heal, const fsm_environment& env, actions& out) {
  heal.was_failing = still_failing(env);
  heal_ = std::move(heal);
  if (heal_->counts_toward_ladder) publish_exhaustion(env, out);
  if (heal_->kind == heal_trigger::automatic && !heal_->slot_held) {
    // The platform-wide cap: wait our turn, first come first served.
    activity_ = activity::awaiting_slot;
    out.emplace_back(fsm_action::request_slot{heal_->id});
    return;
  }
  activity_ = activity::healing;
  if (heal_->counts_toward_ladder) out.emplace_back(fsm_action::publish_phase{heal_phase::running});
  out.emplace_back(fsm_action::run_heal{heal_->id, heal_->rung, heal_->timeout_ms});
}

void subsystem_fsm::on_heal_done(const fsm_event::heal_done& e, const fsm_environment& env, actions& out) {
  if (activity_ != activity::healing || !heal_) return;
  auto& heal = *heal_;
  heal.action_message = e.message;
  if (heal.counts_toward_ladder) healed_in_episode_ = true;
  if (e.success && heal.verify) {
    activity_ = activity::verifying;
    out.emplace_back(fsm_action::publish_phase{heal_phase::verifying});
    const bool as_trial = heal.kind == heal_trigger::manual && config_.has_breaker;
    out.emplace_back(fsm_action::run_probe{as_trial ? probe_purpose::trial : probe_purpose::verification});
    return;
  }
  if (heal.counts_toward_ladder) out.emplace_back(fsm_action::publish_phase{heal_phase::idle});
  out.emplace_back(fsm_action::record_entry{heal.id, heal.label, heal.kind,
                                            e.success ? heal_result::success : heal_result::failure, std::nullopt,
                                            with_reason(heal.reason, e.message)});
  if (heal.counts_toward_ladder) schedule_after_failure(env);
  finish_heal(e.success ? heal_result::success : heal_result::failure, env, out);
}

void subsystem_fsm::finish_heal(heal_result result, const fsm_environment& env, actions& out) {
  assert(heal_.has_value());
  const auto id = heal_->id;
  const bool slot_held = heal_->slot_held;
  const bool counted = heal_->counts_toward_ladder;
  heal_.reset();
  activity_ = activity::idle;
  if (counted) publish_exhaustion(env, out);
  if (slot_held) out.emplace_back(fsm_action::release_slot{id});
  out.emplace_back(fsm_action::heal_finished{id, result});
}

void subsystem_fsm::publish_exhaustion(const fsm_environment& env, actions& out) {
  // Only while failing: a subsystem that recovered is not "exhausted", whatever the hour's count says.
  const auto value = ladder_.in_episode() ? ladder_.exhausted(env.now) : std::nullopt;
  if (value == published_exhaustion_) return;
  published_exhaustion_ = value;
  out.emplace_back(fsm_action::publish_exhaustion{value});
}

void subsystem_fsm::advance(const fsm_environment& env, actions& out) {
  if (stopping_) {
    if (armed_) {
      armed_.reset();
      out.emplace_back(fsm_action::arm_timer{steady_time::max()});
    }
    return;
  }
  if (pending_config_) {
    config_ = std::move(*pending_config_);
    pending_config_.reset();
    ladder_.reconfigure(config_.heal);
    probe_requested_ = true;  // a changed probe is checked at once
    out.emplace_back(fsm_action::apply_config{});
    publish_exhaustion(env, out);  // a changed max_per_hour shows at once
  }
  if (!queued_.empty()) {
    auto next = std::move(queued_.front());
    queued_.pop_front();
    start_heal(std::move(next), env, out);
    return;
  }
  const auto now = env.now.steady;
  const bool retry_due = retry_at_ && *retry_at_ <= now;
  const bool trial_due = trial_at_ && *trial_at_ <= now;
  if (probe_requested_ || retry_due || trial_due) {
    probe_requested_ = false;
    if (retry_due) retry_at_.reset();
    if (trial_due) trial_at_.reset();
    activity_ = activity::probing;
    out.emplace_back(fsm_action::run_probe{probe_purpose::round});
    return;
  }
  if (heal_retry_at_ && *heal_retry_at_ <= now) {
    heal_retry_at_.reset();
    if (still_failing(env)) {
      auto_heal(env, 0, out);
      if (activity_ != activity::idle) return;
    }
  }
  std::optional<steady_time> next;
  for (const auto& at : {retry_at_, trial_at_, heal_retry_at_}) {
    if (at && (!next || *at < *next)) next = at;
  }
  if (next != armed_) {
    armed_ = next;
    out.emplace_back(fsm_action::arm_timer{next.value_or(steady_time::max())});
  }
  out.emplace_back(fsm_action::watch_connection{});
}

bool subsystem_fsm::still_failing(const fsm_environment& env) const {
  if (consecutive_failures_ > 0) return true;
  return env.breaker && env.breaker->state != breaker_state::closed;
}

std::string subsystem_fsm::rung_label(std::size_t rung) const {
  const auto& ladder = config_.heal.actions;
  return rung < ladder.size() ? ladder[rung].label() : "none";
}

}  // namespace healthd
