#include "subsystem_runner.hpp"

#include "healthd/core/exception_text.hpp"
#include "healthd/core/overloaded.hpp"
#include "healthd/core/utf8.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace healthd::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

// Probes and actions honour their own deadlines; this outer bound only guards against one that does not.
constexpr auto deadline_slack = 2s;
constexpr auto retry_after_cap_full = std::chrono::seconds{10};
constexpr std::size_t max_reason_bytes = 1024;

std::optional<breaker_transition> record_in(circuit_breaker& b, const admission_ticket& ticket, const probe_result& r,
                                            const instant& now) {
  if (!r.started) {
    b.abandon(ticket, now);
    return std::nullopt;
  }
  if (passed(r.status)) return b.record_success(ticket, now, r.latency);
  return b.record_failure(ticket, now, r.message, r.latency);
}

}  // namespace

subsystem_runner::subsystem_runner(std::shared_ptr<engine_core> core, asio::any_io_executor strand, runner_parts parts)
    : core_(std::move(core)),
      strand_(std::move(strand)),
      name_(parts.config.name),
      parts_(std::move(parts)),
      fsm_(subsystem_fsm_config::from(parts_.config, parts_.loop_interval_s)),
      timer_(strand_, asio::steady_timer::time_point::max()) {}

void subsystem_runner::start() {
  asio::post(strand_, [self = shared_from_this()] {
    self->spawn(self->timer_task(), "timer", std::nullopt);
    self->feed(fsm_event::tick{});
  });
}

void subsystem_runner::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->disarm_watch();
    self->feed(fsm_event::stop{});
    self->timer_.cancel();
  });
}

void subsystem_runner::poke() {
  asio::post(strand_, [self = shared_from_this()] {
    if (!self->stopped_) self->feed(fsm_event::tick{});
  });
}

void subsystem_runner::replace(runner_parts parts) {
  auto shared = std::make_shared<runner_parts>(std::move(parts));
  asio::post(strand_, [self = shared_from_this(), shared] {
    auto next = subsystem_fsm_config::from(shared->config, shared->loop_interval_s);
    self->pending_parts_ = std::move(*shared);
    self->feed(fsm_event::reload{std::move(next)});
  });
}

void subsystem_runner::breaker_changed(breaker_state to) {
  asio::post(strand_, [self = shared_from_this(), to] { self->feed(fsm_event::breaker_changed{to}); });
}

void subsystem_runner::maintain(std::string task_name) {
  asio::post(strand_, [self = shared_from_this(), task_name = std::move(task_name)] {
    auto it = self->parts_.maintenance.find(task_name);
    if (it == self->parts_.maintenance.end()) return;
    trigger_request request{self->name_, heal_trigger::maintenance, {}, it->second};
    auto task = [](std::shared_ptr<subsystem_runner> runner, trigger_request r) -> asio::awaitable<void> {
      (void)co_await runner->trigger(std::move(r));
    };
    self->spawn(task(self, std::move(request)), "maintenance task " + task_name, std::nullopt);
  });
}

void subsystem_runner::feed(subsystem_event event) {
  events_.push_back(std::move(event));
  // An action may feed an event (a readable connection found at once): it waits until this batch is performed.
  if (feeding_) return;
  feeding_ = true;
  while (!events_.empty()) {
    auto next = std::move(events_.front());
    events_.pop_front();
    try {
      for (auto& action : fsm_.on(next, environment()))
        perform(std::move(action));
    } catch (const std::exception& e) {
      // A bug must not stop a subsystem from being watched: log it; the FSM's timers carry on.
      spdlog::error("subsystem {}: {}", name_, e.what());
    }
  }
  feeding_ = false;
}

fsm_environment subsystem_runner::environment() const {
  fsm_environment env;
  env.now = core_->now();
  env.mode = core_->mode();
  env.blocking_dependency = core_->blocking_dependency(parts_.config);
  if (auto b = breaker()) {
    const auto s = b->snapshot();
    env.breaker = breaker_reading{s.state, s.state == breaker_state::open ? s.next_attempt_steady : std::nullopt};
  }
  return env;
}

std::shared_ptr<circuit_breaker> subsystem_runner::breaker() const {
  if (!parts_.config.breaker) return nullptr;
  return core_->deps.breakers->find(*parts_.config.breaker);
}

void subsystem_runner::notify(const std::optional<breaker_transition>& transition) const {
  if (transition) core_->breaker_moved(transition->name, transition->to, name_);
}

void subsystem_runner::perform(subsystem_action action) {
  auto& state = *core_->deps.state;
  std::visit(
      overloaded{
          [&](fsm_action::run_probe& a) {
            disarm_watch();
            probe_result failed;
            failed.message = "probe error: the probe task ended by an exception";
            spawn(probe_task(a.purpose), "probe", fsm_event::probe_done{a.purpose, failed, std::nullopt});
          },
          [&](fsm_action::arm_timer& a) { timer_.expires_at(a.at); },
          [&](fsm_action::watch_connection&) { arm_watch(); },
          [&](fsm_action::request_slot& a) { spawn(slot_task(a.heal_id), "heal slot", fsm_event::slot_unavailable{}); },
          [&](fsm_action::release_slot& a) { leases_.erase(a.heal_id); },
          [&](fsm_action::run_heal& a) {
            disarm_watch();
            spawn(heal_task(a.heal_id, a.rung, a.timeout_ms), "heal",
                  fsm_event::heal_done{false, "action error: the heal task ended by an exception"});
          },
          [&](fsm_action::apply_config&) {
            if (!pending_parts_) return;
            disarm_watch();
            parts_ = std::move(*pending_parts_);
            pending_parts_.reset();
          },
          [&](fsm_action::reset_breaker&) {
            if (auto b = breaker()) notify(b->reset(core_->now()));
          },
          [&](fsm_action::publish_probe& a) { state.record_probe(name_, a.result, core_->now()); },
          [&](fsm_action::publish_refused&) { state.record_refusal(name_); },
          [&](fsm_action::publish_phase& a) { state.set_heal_phase(name_, a.phase); },
          [&](fsm_action::publish_exhaustion& a) { state.set_healing_exhausted(name_, a.attempts_last_hour); },
          [&](fsm_action::record_entry& a) { outbox_.emplace_back(std::move(a)); },
          [&](fsm_action::answer_trigger& a) {
            // A refused trigger ran nothing: what it brought is given back now. Started and deferred ones run later.
            if (a.kind == trigger_answer_kind::refused) {
              leases_.erase(a.id);
              overrides_.erase(a.id);
            }
            outbox_.emplace_back(std::move(a));
          },
          [&](fsm_action::heal_finished& a) {
            overrides_.erase(a.id);
            outbox_.emplace_back(a);
          },
      },
      action);
  if (!outbox_.empty() && !draining_) {
    draining_ = true;
    spawn(drain_outbox(), "healing log", std::nullopt);
  }
}

void subsystem_runner::spawn(asio::awaitable<void> task, std::string what, std::optional<subsystem_event> on_error) {
  asio::co_spawn(strand_, std::move(task),
                 [self = shared_from_this(), what = std::move(what), on_error](const std::exception_ptr& e) mutable {
                   if (!e) return;
                   spdlog::error("subsystem {}: {} failed: {}", self->name_, what, exception_text(e));
                   if (on_error) self->feed(std::move(*on_error));
                 });
}

asio::awaitable<trigger_outcome> subsystem_runner::trigger(trigger_request request) {
  auto self = shared_from_this();
  const auto id = ++next_trigger_id_;
  auto w = std::make_shared<waiter>(strand_);
  waiters_.emplace(id, w);
  // The reason comes from callers (an API body, a log line): it enters the engine's state here.
  fsm_event::trigger event{id, request.kind, valid_utf8(request.reason, max_reason_bytes), std::nullopt, false};
  if (request.action) {
    event.override_action = heal_override{request.action->label, request.action->timeout_ms};
    overrides_.emplace(id, request.action->action);
  }
  if (request.kind == heal_trigger::manual || request.kind == heal_trigger::log) {
    // These never wait for a slot: taken now or refused (the FSM decides which refusal comes first).
    if (auto lease = core_->slots.try_lease()) {
      leases_.emplace(id, std::move(*lease));
      event.slot_held = true;
    }
  }
  feed(std::move(event));
  if (!w->outcome) (void)co_await w->signal.async_wait(asio::as_tuple(use_awaitable));
  if (!w->outcome) {
    // Only when the strand is torn down under us.
    waiters_.erase(id);
    co_return trigger_refused{heal_refusal::shutting_down, "the daemon is shutting down", retry_after_cap_full};
  }
  co_return std::move(*w->outcome);
}

void subsystem_runner::complete(std::uint64_t id, trigger_outcome outcome) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  auto w = it->second;
  waiters_.erase(it);
  w->outcome = std::move(outcome);
  w->signal.cancel();
}

asio::awaitable<void> subsystem_runner::drain_outbox() {
  auto self = shared_from_this();
  while (!outbox_.empty()) {
    auto item = std::move(outbox_.front());
    outbox_.pop_front();
    if (auto* r = std::get_if<fsm_action::record_entry>(&item)) {
      healing_entry e;
      e.subsystem = name_;
      e.action = std::move(r->action);
      e.trigger = r->trigger;
      e.result = r->result;
      e.verification = r->verification;
      e.detail = std::move(r->detail);
      std::pair<healing_entry, bool> stored{e, false};
      try {
        stored = co_await core_->record(std::move(e));
      } catch (const std::exception& ex) {
        ++core_->audit_write_failures;
        spdlog::error("subsystem {}: healing-log entry not recorded: {}", name_, valid_utf8(ex.what()));
      }
      if (auto it = waiters_.find(r->heal_id); r->heal_id != 0 && it != waiters_.end()) {
        it->second->entries.push_back(std::move(stored.first));
        it->second->durable = it->second->durable && stored.second;
      }
    } else if (auto* a = std::get_if<fsm_action::answer_trigger>(&item)) {
      if (a->kind == trigger_answer_kind::refused) {
        std::optional<std::chrono::seconds> retry_after;
        if (a->refusal == heal_refusal::platform_cap_full || a->refusal == heal_refusal::shutting_down) {
          retry_after = retry_after_cap_full;
        }
        complete(a->id, trigger_refused{a->refusal.value_or(heal_refusal::heal_in_progress), std::move(a->message),
                                        retry_after});
      } else if (a->kind == trigger_answer_kind::deferred) {
        complete(a->id, trigger_deferred{std::move(a->message), a->until});
      }
    } else if (auto* f = std::get_if<fsm_action::heal_finished>(&item)) {
      if (auto it = waiters_.find(f->id); f->id != 0 && it != waiters_.end()) {
        trigger_started done;
        done.result = f->result;
        done.entries = std::move(it->second->entries);
        done.durable = it->second->durable;
        done.status = core_->deps.state->status_of(name_);
        complete(f->id, std::move(done));
      }
    }
  }
  draining_ = false;
}

asio::awaitable<probe_result> subsystem_runner::guarded_probe(std::shared_ptr<probes::probe> probe) {
  using namespace asio::experimental::awaitable_operators;
  ++core_->probes_run;
  const auto timeout_ms = parts_.config.probe.timeout_ms;
  asio::steady_timer guard(strand_);
  guard.expires_after(std::chrono::milliseconds{timeout_ms} + deadline_slack);
  try {
    auto r = co_await (probe->run() || guard.async_wait(use_awaitable));
    if (r.index() == 0) co_return std::get<0>(std::move(r));
  } catch (const std::exception& e) {
    probe_result failed;
    failed.message = valid_utf8(std::string("probe error: ") + e.what());
    co_return failed;
  }
  probe_result late;
  late.message = "timeout after " + std::to_string(timeout_ms) + " ms";
  co_return late;
}

asio::awaitable<void> subsystem_runner::probe_task(probe_purpose purpose) {
  auto self = shared_from_this();
  auto probe = parts_.probe;
  auto b = breaker();
  std::optional<admission_ticket> ticket;
  if (b && purpose != probe_purpose::verification) {
    const auto now = core_->now();
    // A forced heal's verification is the breaker's half-open trial.
    if (purpose == probe_purpose::trial) notify(b->trial_now(now));
    auto admitted = b->allow(now);
    notify(admitted.transition);
    if (admitted == admission::rejected) {
      if (purpose == probe_purpose::round) {
        ++core_->probes_rejected;
        feed(fsm_event::probe_refused{});
        co_return;
      }
      // Another subsystem sharing the breaker took the trial: verify outside the breaker.
    } else {
      ticket = admitted;
    }
  }
  fsm_event::probe_done done;
  done.purpose = purpose;
  done.result = co_await guarded_probe(std::move(probe));
  if (ticket) {
    done.transition = record_in(*b, *ticket, done.result, core_->now());
    notify(done.transition);
  }
  feed(std::move(done));
}

asio::awaitable<void> subsystem_runner::heal_task(std::uint64_t id, std::optional<std::size_t> rung, int timeout_ms) {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  std::shared_ptr<actions::action> action;
  if (rung) {
    if (*rung < parts_.ladder.size()) action = parts_.ladder[*rung];
  } else if (auto it = overrides_.find(id); it != overrides_.end()) {
    action = it->second;
  }
  fsm_event::heal_done done;
  if (!action) {
    done.message = "action error: the action is no longer configured";
    feed(std::move(done));
    co_return;
  }
  asio::steady_timer guard(strand_);
  guard.expires_after(std::chrono::milliseconds{timeout_ms} + deadline_slack);
  try {
    auto r = co_await (action->run() || guard.async_wait(use_awaitable));
    if (r.index() == 0) {
      auto outcome = std::get<0>(std::move(r));
      done.success = outcome.success;
      done.message = std::move(outcome.message);
    } else {
      done.message = "timeout after " + std::to_string(timeout_ms) + " ms";
    }
  } catch (const std::exception& e) {
    done.message = valid_utf8(std::string("action error: ") + e.what());
  }
  feed(std::move(done));
}

asio::awaitable<void> subsystem_runner::slot_task(std::uint64_t heal_id) {
  auto self = shared_from_this();
  auto [ec] = co_await core_->slots.async_acquire(asio::as_tuple(use_awaitable));
  if (ec) {
    feed(fsm_event::slot_unavailable{});
    co_return;
  }
  leases_.insert_or_assign(heal_id, core_->slots.adopt());
  feed(fsm_event::slot_granted{heal_id});
}

asio::awaitable<void> subsystem_runner::timer_task() {
  auto self = shared_from_this();
  while (!stopped_) {
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    if (stopped_) break;
    if (ec) continue;  // re-armed: wait for the new time
    timer_.expires_at(asio::steady_timer::time_point::max());
    feed(fsm_event::timer{});
  }
}

void subsystem_runner::arm_watch() {
  if (stopped_ || watch_ || !parts_.probe) return;
  const auto fd = parts_.probe->idle_socket();
  if (!fd) return;
  auto watch = std::make_shared<io::idle_watch>(strand_);
  switch (watch->arm(*fd)) {
    case io::idle_watch::armed::watching:
      watch_ = watch;
      spawn(watch_task(std::move(watch)), "connection watch", std::nullopt);
      return;
    case io::idle_watch::armed::readable_now:
      ++core_->watch_wakeups;
      feed(fsm_event::connection_dropped{});
      return;
    case io::idle_watch::armed::not_watchable: return;
  }
}

void subsystem_runner::disarm_watch() {
  if (!watch_) return;
  auto watch = std::move(watch_);
  watch_.reset();
  watch->release();
}

asio::awaitable<void> subsystem_runner::watch_task(std::shared_ptr<io::idle_watch> watch) {
  auto self = shared_from_this();
  const bool readable = co_await watch->wait();
  if (!readable || watch_ != watch) co_return;  // disarmed
  disarm_watch();
  ++core_->watch_wakeups;
  feed(fsm_event::connection_dropped{});
}

}  // namespace healthd::detail
