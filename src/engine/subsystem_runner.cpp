#include "subsystem_runner.hpp"

#include "healthd/engine/schedule.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>

namespace healthd::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

// Probes and actions honour their own deadlines; this outer bound only guards against one that does not.
constexpr auto deadline_slack = 2s;
constexpr auto retry_after_cap_full = std::chrono::seconds{10};

void log_exception(const std::string& what, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: {}", what, ex.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", what);
  }
}

manual_heal_refused refusal(heal_refusal reason, std::string message,
                            std::optional<std::chrono::seconds> retry_after = std::nullopt) {
  return {reason, std::move(message), retry_after};
}

}  // namespace

subsystem_runner::subsystem_runner(std::shared_ptr<engine_core> core, asio::any_io_executor strand, runner_parts parts)
    : core_(std::move(core)),
      strand_(std::move(strand)),
      name_(parts.config.name),
      parts_(std::move(parts)),
      ladder_(parts_.config.heal),
      gate_(strand_),
      wake_(strand_, asio::steady_timer::time_point::max()) {}

void subsystem_runner::start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->probe_requested_ = true;
    asio::co_spawn(
        self->strand_, [self]() -> asio::awaitable<void> { co_await self->main_loop(); },
        [name = self->name_](const std::exception_ptr& e) { log_exception("subsystem " + name + " stopped", e); });
  });
}

void subsystem_runner::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->disarm_watch();
    self->wake();
  });
}

void subsystem_runner::poke() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    // A tick while a round or heal is under way is dropped: never two rounds of one subsystem at once.
    if (self->stopping_ || self->gate_.held()) return;
    self->probe_requested_ = true;
    self->wake();
  });
}

void subsystem_runner::replace(runner_parts parts) {
  auto shared = std::make_shared<runner_parts>(std::move(parts));
  asio::dispatch(strand_, [self = shared_from_this(), shared] {
    self->pending_ = std::move(*shared);
    self->wake();
  });
}

void subsystem_runner::wake() { wake_.cancel(); }

asio::awaitable<void> subsystem_runner::main_loop() {
  while (!stopping_) {
    try {
      apply_pending();
      const auto now = core_->now().steady;
      const bool retry_due = retry_at_ && *retry_at_ <= now;
      const bool trial_due = trial_at_ && *trial_at_ <= now;
      if (probe_requested_ || retry_due || trial_due) {
        probe_requested_ = false;
        if (retry_due) retry_at_.reset();
        if (trial_due) trial_at_.reset();
        co_await probe_round();
        continue;
      }
      if (heal_retry_at_ && *heal_retry_at_ <= now) {
        heal_retry_at_.reset();
        if (still_failing()) {
          co_await gate_.acquire();
          co_await auto_heal();
          gate_.release();
        }
        continue;
      }
      auto next = steady_time::max();
      for (const auto& at : {retry_at_, trial_at_, heal_retry_at_}) {
        if (at && *at < next) next = *at;
      }
      wake_.expires_at(next);
      (void)co_await wake_.async_wait(asio::as_tuple(use_awaitable));
    } catch (const std::exception& e) {
      // A bug must not stop a subsystem from being watched: log it and carry on after a pause.
      spdlog::error("subsystem {}: {}", name_, e.what());
      if (gate_.held()) gate_.release();
      healing_ = false;
      retry_at_ = core_->now().steady + 1s;
    }
  }
  disarm_watch();
}

void subsystem_runner::apply_pending() {
  if (!pending_ || gate_.held()) return;
  disarm_watch();
  parts_ = std::move(*pending_);
  pending_.reset();
  ladder_.reconfigure(parts_.config.heal);
  probe_requested_ = true;  // a changed probe is checked at once
}

std::shared_ptr<circuit_breaker> subsystem_runner::breaker() const {
  if (!parts_.config.breaker) return nullptr;
  return core_->deps.breakers->find(*parts_.config.breaker);
}

asio::awaitable<probe_result> subsystem_runner::run_probe() {
  using namespace asio::experimental::awaitable_operators;
  ++core_->probes_run;
  asio::steady_timer guard(strand_);
  guard.expires_after(std::chrono::milliseconds{parts_.config.probe.timeout_ms} + deadline_slack);
  try {
    auto r = co_await (parts_.probe->run() || guard.async_wait(use_awaitable));
    if (r.index() == 0) co_return std::get<0>(std::move(r));
  } catch (const std::exception& e) {
    probe_result failed;
    failed.message = std::string("probe error: ") + e.what();
    co_return failed;
  }
  probe_result late;
  late.message = "timeout after " + std::to_string(parts_.config.probe.timeout_ms) + " ms";
  co_return late;
}

asio::awaitable<void> subsystem_runner::probe_round() {
  co_await gate_.acquire();
  if (stopping_) {
    gate_.release();
    co_return;
  }
  disarm_watch();
  auto b = breaker();
  if (b && b->allow(core_->now()) == admission::rejected) {
    ++core_->probes_rejected;
    schedule_trial_from_breaker();
    gate_.release();
    co_return;
  }
  const auto result = co_await run_probe();
  const auto now = core_->now();
  core_->deps.state->record_probe(name_, result, now);
  bool opened = false;
  if (b) {
    if (!result.started) {
      b->abandon(now);
    } else if (passed(result.status)) {
      b->record_success(now, result.latency);
    } else {
      const auto before = b->state();
      b->record_failure(now, result.message, result.latency);
      opened = before != breaker_state::open && b->state() == breaker_state::open;
    }
  }
  if (!result.started) {
    retry_at_ = now.steady + to_duration(parts_.config.retry_interval_s);
  } else if (passed(result.status)) {
    co_await passed_probe(result);
  } else {
    ++consecutive_failures_;
    co_await after_failure(opened);
  }
  arm_watch();
  gate_.release();
}

asio::awaitable<void> subsystem_runner::passed_probe(const probe_result& result) {
  consecutive_failures_ = 0;
  retry_at_.reset();
  trial_at_.reset();
  heal_retry_at_.reset();
  if (healed_in_episode_) {
    healed_in_episode_ = false;
    co_await log_entry("recovered", heal_trigger::automatic, heal_result::success,
                       "probe passed after healing: " + result.message);
  }
  ladder_.on_probe_passed();
  update_exhaustion();
}

asio::awaitable<void> subsystem_runner::after_failure(bool breaker_opened) {
  const auto now = core_->now().steady;
  const auto delay = retry_delay(parts_.config.retry_interval_s, parts_.loop_interval_s, consecutive_failures_);
  if (auto b = breaker()) {
    if (breaker_opened) {
      retry_at_.reset();
      schedule_trial_from_breaker();
      co_await auto_heal();
    } else if (b->state() == breaker_state::closed) {
      retry_at_ = now + delay;
    } else {
      schedule_trial_from_breaker();
    }
    co_return;
  }
  retry_at_ = now + delay;
  if (heal_due_without_breaker(consecutive_failures_, parts_.config.heal.after_failures)) co_await auto_heal();
}

void subsystem_runner::schedule_trial_from_breaker() {
  auto b = breaker();
  if (!b) return;
  const auto s = b->snapshot();
  if (s.state == breaker_state::open && s.next_attempt_steady) {
    trial_at_ = *s.next_attempt_steady;
  } else if (s.state == breaker_state::half_open) {
    trial_at_ = core_->now().steady;
  }
}

bool subsystem_runner::still_failing() const {
  if (consecutive_failures_ > 0) return true;
  auto b = breaker();
  return b && b->state() != breaker_state::closed;
}

heal_context subsystem_runner::context() const {
  heal_context c;
  c.mode = core_->mode();
  if (auto dep = core_->blocking_dependency(parts_.config)) {
    c.blocking_dependency = dep->first;
    c.blocking_status = dep->second;
  }
  return c;
}

std::string subsystem_runner::rung_label(std::size_t rung) const {
  const auto& actions = parts_.config.heal.actions;
  return rung < actions.size() ? actions[rung].label() : "none";
}

void subsystem_runner::update_exhaustion() {
  core_->deps.state->set_healing_exhausted(name_, ladder_.exhausted(core_->now()));
}

asio::awaitable<void> subsystem_runner::auto_heal() {
  if (healing_) co_return;
  const auto d = ladder_.on_trigger(core_->now(), context());
  update_exhaustion();
  switch (d.what) {
    case heal_decision::kind::none: co_return;
    case heal_decision::kind::defer: heal_retry_at_ = d.retry_at; co_return;
    case heal_decision::kind::skip:
      co_await log_entry(rung_label(ladder_.current_rung()), heal_trigger::automatic, heal_result::skipped, d.detail);
      co_return;
    case heal_decision::kind::run: break;
  }
  if (d.dry_run) {
    co_await log_entry(rung_label(d.rung), heal_trigger::automatic, heal_result::skipped, d.detail);
    co_return;
  }
  healing_ = true;
  // The platform-wide cap: wait our turn, first come first served.
  auto [ec] = co_await core_->slots.async_acquire(asio::as_tuple(use_awaitable));
  if (ec || stopping_) {
    if (!ec) core_->slots.release();
    healing_ = false;
    co_return;
  }
  (void)co_await execute_rung(d.rung, heal_trigger::automatic, {}, verification::outside_breaker);
  core_->slots.release();
  healing_ = false;
}

asio::awaitable<subsystem_runner::rung_outcome> subsystem_runner::execute_rung(std::size_t rung, heal_trigger trigger,
                                                                               std::string reason, verification how) {
  using namespace asio::experimental::awaitable_operators;
  auto& state = *core_->deps.state;
  auto b = breaker();
  const bool was_failing = still_failing();
  state.set_heal_phase(name_, heal_phase::running);

  actions::action_outcome outcome;
  {
    asio::steady_timer guard(strand_);
    guard.expires_after(std::chrono::milliseconds{parts_.config.heal.actions[rung].timeout_ms} + deadline_slack);
    try {
      auto r = co_await (parts_.ladder[rung]->run() || guard.async_wait(use_awaitable));
      if (r.index() == 0) {
        outcome = std::get<0>(std::move(r));
      } else {
        outcome.message = "timeout after " + std::to_string(parts_.config.heal.actions[rung].timeout_ms) + " ms";
      }
    } catch (const std::exception& e) {
      outcome.message = std::string("action error: ") + e.what();
    }
  }

  rung_outcome r;
  r.action_succeeded = outcome.success;
  std::string detail = reason.empty() ? outcome.message : "reason: " + reason + "; " + outcome.message;
  std::string verification_message;
  if (outcome.success) {
    state.set_heal_phase(name_, heal_phase::verifying);
    auto now = core_->now();
    std::optional<admission> trial;
    if (how == verification::as_trial && b) {
      b->trial_now(now);
      trial = b->allow(now);
    }
    const auto v = co_await run_probe();
    now = core_->now();
    state.record_probe(name_, v, now);
    r.verified = v.started && passed(v.status);
    verification_message = v.message;
    if (trial && *trial != admission::rejected) {
      if (!v.started) {
        b->abandon(now);
      } else if (r.verified) {
        b->record_success(now, v.latency);
      } else {
        b->record_failure(now, v.message, v.latency);
      }
    } else if (r.verified && b) {
      b->reset(now);
    }
    detail += r.verified ? "; verification passed" : "; verification failed: " + v.message;
  }
  state.set_heal_phase(name_, heal_phase::idle);

  auto [entry, durable] = co_await log_entry(rung_label(rung), trigger,
                                             outcome.success ? heal_result::success : heal_result::failure, detail);
  r.entries.push_back(std::move(entry));
  r.durable = durable;
  healed_in_episode_ = true;

  const auto now = core_->now().steady;
  if (r.verified) {
    consecutive_failures_ = 0;
    retry_at_.reset();
    trial_at_.reset();
    heal_retry_at_.reset();
    healed_in_episode_ = false;
    if (was_failing) {
      auto [recovered, ok] = co_await log_entry("recovered", trigger, heal_result::success,
                                                "verification passed: " + verification_message);
      r.entries.push_back(std::move(recovered));
      r.durable = r.durable && ok;
    }
    ladder_.on_probe_passed();
  } else if (b) {
    schedule_trial_from_breaker();
  } else {
    retry_at_ =
        now + retry_delay(parts_.config.retry_interval_s, parts_.loop_interval_s, std::max(consecutive_failures_, 1));
  }
  update_exhaustion();
  co_return r;
}

asio::awaitable<std::pair<healing_entry, bool>> subsystem_runner::log_entry(std::string action, heal_trigger trigger,
                                                                            heal_result result, std::string detail) {
  healing_entry e;
  e.subsystem = name_;
  e.action = std::move(action);
  e.trigger = trigger;
  e.result = result;
  e.detail = std::move(detail);
  co_return co_await core_->record(std::move(e));
}

asio::awaitable<manual_heal_outcome> subsystem_runner::manual_heal(manual_heal_request request) {
  if (stopping_) {
    co_return refusal(heal_refusal::platform_cap_full, "the daemon is shutting down", retry_after_cap_full);
  }
  if (healing_) co_return refusal(heal_refusal::heal_in_progress, "a heal of " + name_ + " is already running");
  if (auto dep = core_->blocking_dependency(parts_.config)) {
    co_return refusal(heal_refusal::dependency_critical,
                      "dependency " + dep->first + " is " + std::string(to_string(dep->second)));
  }
  if (parts_.ladder.empty()) {
    co_return refusal(heal_refusal::no_heal_actions, name_ + " has no heal actions configured");
  }
  if (!core_->slots.try_acquire()) {
    co_return refusal(heal_refusal::platform_cap_full, "the platform-wide heal cap (healing.max_concurrent) is reached",
                      retry_after_cap_full);
  }
  healing_ = true;
  co_await gate_.acquire();
  disarm_watch();
  rung_outcome r;
  try {
    const auto rung = ladder_.on_manual(core_->now()).value_or(0);
    r = co_await execute_rung(rung, heal_trigger::manual, request.reason, verification::as_trial);
  } catch (...) {
    core_->slots.release();
    healing_ = false;
    gate_.release();
    throw;
  }
  core_->slots.release();
  healing_ = false;
  arm_watch();
  gate_.release();
  wake();
  if (!r.durable) {
    co_return refusal(heal_refusal::audit_write_failed,
                      "the heal ran, but its healing-log entry could not be written to the audit file");
  }
  manual_heal_done done;
  done.subsystem = name_;
  done.result = r.action_succeeded ? heal_result::success : heal_result::failure;
  done.entries = std::move(r.entries);
  done.status = core_->deps.state->status_of(name_);
  co_return done;
}

asio::awaitable<void> subsystem_runner::run_maintenance(std::string task_name) {
  auto it = parts_.maintenance.find(task_name);
  if (it == parts_.maintenance.end() || stopping_) co_return;
  co_await gate_.acquire();
  disarm_watch();
  const auto& [task, action] = it->second;
  actions::action_outcome outcome;
  try {
    outcome = co_await action->run();
  } catch (const std::exception& e) {
    outcome.message = std::string("action error: ") + e.what();
  }
  const auto label = task.action.name ? task.action.label() : task.action.type + ":" + task.name;
  co_await log_entry(label, heal_trigger::maintenance, outcome.success ? heal_result::success : heal_result::failure,
                     outcome.message);
  arm_watch();
  gate_.release();
  wake();
}

void subsystem_runner::arm_watch() {
  if (stopping_ || watch_ || !parts_.probe) return;
  const auto fd = parts_.probe->idle_socket();
  if (!fd) return;
  // The server may have closed the connection before we started watching: look once without waiting.
  pollfd p{*fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) > 0) {
    ++core_->watch_wakeups;
    probe_requested_ = true;
    wake();
    return;
  }
  // Asio switches a watched descriptor to non-blocking mode and release() leaves it so; the library expects its
  // blocking socket back (hiredis would then fail with EAGAIN), so the flags are restored on release.
  const int flags = ::fcntl(*fd, F_GETFL);
  if (flags < 0) return;
  auto descriptor = std::make_shared<asio::posix::stream_descriptor>(strand_);
  boost::system::error_code ec;
  descriptor->assign(*fd, ec);
  if (ec) {
    (void)descriptor->release();
    return;
  }
  watch_ = descriptor;
  watch_flags_ = flags;
  asio::co_spawn(strand_, watch(std::move(descriptor)),
                 [name = name_](const std::exception_ptr& e) { log_exception("connection watch of " + name, e); });
}

void subsystem_runner::disarm_watch() {
  if (!watch_) return;
  auto descriptor = std::move(watch_);
  watch_.reset();
  // The library owns the descriptor: release it (cancelling the wait), never close it.
  const int fd = descriptor->release();
  if (fd >= 0) (void)::fcntl(fd, F_SETFL, watch_flags_);
}

asio::awaitable<void> subsystem_runner::watch(std::shared_ptr<asio::posix::stream_descriptor> descriptor) {
  auto [ec] = co_await descriptor->async_wait(asio::posix::descriptor_base::wait_read, asio::as_tuple(use_awaitable));
  if (ec || watch_ != descriptor) co_return;  // disarmed
  disarm_watch();
  ++core_->watch_wakeups;
  probe_requested_ = true;
  wake();
}

}  // namespace healthd::detail
