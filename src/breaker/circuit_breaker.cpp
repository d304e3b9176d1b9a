#include "healthd/breaker/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <utility>

namespace healthd {

namespace {

// Longer than any sensible recovery timeout, short enough that steady_clock arithmetic cannot overflow.
constexpr double max_seconds = 1e7;

double seconds_in_range(double s) { return std::isfinite(s) ? std::clamp(s, 0.0, max_seconds) : max_seconds; }

config::breaker_config sanitized(config::breaker_config s) {
  s.failure_threshold = std::max(s.failure_threshold, 1);
  s.window_size = std::max(s.window_size, 1);
  // As Resilience4j: a minimum larger than the window means "a full window".
  s.minimum_calls = std::clamp(s.minimum_calls, 1, s.window_size);
  s.recovery_timeout_s = std::isnan(s.recovery_timeout_s) ? 0.0 : seconds_in_range(s.recovery_timeout_s);
  s.max_recovery_timeout_s = std::isnan(s.max_recovery_timeout_s) ? 0.0 : seconds_in_range(s.max_recovery_timeout_s);
  s.jitter = std::isnan(s.jitter) ? 0.0 : std::clamp(s.jitter, 0.0, 1.0);
  return s;
}

}  // namespace

std::string_view to_string(admission a) noexcept {
  switch (a) {
    case admission::admitted: return "admitted";
    case admission::trial: return "trial";
    case admission::rejected: return "rejected";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, admission a) { return os << to_string(a); }

std::ostream& operator<<(std::ostream& os, const breaker_transition& t) {
  return os << t.name << ": " << to_string(t.from) << " -> " << to_string(t.to);
}

std::ostream& operator<<(std::ostream& os, const admission_ticket& t) {
  os << "{" << t.kind << ", epoch " << t.epoch;
  if (t.transition) os << ", " << *t.transition;
  return os << "}";
}

circuit_breaker::circuit_breaker(config::breaker_config settings, unit_random random)
    : name_(settings.name), settings_(sanitized(std::move(settings))), random_(std::move(random)) {
  if (!random_) {
    std::random_device device;
    engine_.seed((std::uint64_t{device()} << 32U) | std::uint64_t{device()});
  }
  current_timeout_s_ = backoff_s_locked();
}

config::breaker_config circuit_breaker::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

admission_ticket circuit_breaker::allow(const instant& now) {
  std::unique_lock lock(mutex_);
  admission_ticket ticket;
  switch (state_) {
    case breaker_state::closed:
      ticket.kind = admission::admitted;
      ticket.epoch = epoch_;
      return ticket;
    case breaker_state::open:
      if (next_attempt_steady_ && now.steady >= *next_attempt_steady_) {
        ticket.transition = set_state_locked(breaker_state::half_open);
        trial_taken_ = true;
        ticket.kind = admission::trial;
      } else {
        ++rejected_;
        ticket.kind = admission::rejected;
      }
      break;
    case breaker_state::half_open:
      if (trial_taken_) {
        ++rejected_;
        ticket.kind = admission::rejected;
      } else {
        trial_taken_ = true;
        ticket.kind = admission::trial;
      }
      break;
  }
  ticket.epoch = epoch_;
  changed_locked();
  unlock_and_deliver(lock);
  return ticket;
}

std::optional<breaker_transition> circuit_breaker::record_success(const admission_ticket& ticket, const instant& now,
                                                                  millis_d latency) {
  std::unique_lock lock(mutex_);
  count_success_locked();
  std::optional<breaker_transition> transition;
  if (in_current_period_locked(ticket)) transition = success_locked(now, latency);
  unlock_and_deliver(lock);
  return transition;
}

// Failed calls are never counted as slow: they already count as failures. `latency` is accepted for symmetry.
std::optional<breaker_transition> circuit_breaker::record_failure(const admission_ticket& ticket, const instant& now,
                                                                  std::string message, millis_d /*latency*/) {
  std::unique_lock lock(mutex_);
  count_failure_locked(now, std::move(message));
  std::optional<breaker_transition> transition;
  if (in_current_period_locked(ticket)) transition = failure_locked(now);
  unlock_and_deliver(lock);
  return transition;
}

void circuit_breaker::abandon(const admission_ticket& ticket, const instant& /*now*/) {
  std::lock_guard lock(mutex_);
  if (ticket.kind == admission::trial && in_current_period_locked(ticket)) {
    trial_taken_ = false;
    changed_locked();
  }
}

std::optional<breaker_transition> circuit_breaker::record_success(const instant& now, millis_d latency) {
  std::unique_lock lock(mutex_);
  count_success_locked();
  auto transition = success_locked(now, latency);
  unlock_and_deliver(lock);
  return transition;
}

std::optional<breaker_transition> circuit_breaker::record_failure(const instant& now, std::string message,
                                                                  millis_d /*latency*/) {
  std::unique_lock lock(mutex_);
  count_failure_locked(now, std::move(message));
  auto transition = failure_locked(now);
  unlock_and_deliver(lock);
  return transition;
}

std::optional<breaker_transition> circuit_breaker::abandon(const instant& /*now*/) {
  std::lock_guard lock(mutex_);
  if (state_ == breaker_state::half_open && trial_taken_) {
    trial_taken_ = false;
    changed_locked();
  }
  return std::nullopt;
}

std::optional<breaker_transition> circuit_breaker::force_open(const instant& now) {
  std::unique_lock lock(mutex_);
  std::optional<breaker_transition> transition;
  if (state_ == breaker_state::open) {
    start_open_period_locked(now);
    ++epoch_;
  } else {
    transition = open_locked(now);
  }
  changed_locked();
  unlock_and_deliver(lock);
  return transition;
}

std::optional<breaker_transition> circuit_breaker::reset(const instant& /*now*/) {
  std::unique_lock lock(mutex_);
  std::optional<breaker_transition> transition;
  if (state_ != breaker_state::closed || consecutive_failures_ != 0 || !window_.empty()) {
    transition = close_locked();
    changed_locked();
  }
  // Even a clean breaker starts a new period: calls admitted before the reset must not count after it. The epoch
  // is not in the snapshot, so the version need not move.
  ++epoch_;
  unlock_and_deliver(lock);
  return transition;
}

std::optional<breaker_transition> circuit_breaker::trial_now(const instant& now) {
  std::unique_lock lock(mutex_);
  std::optional<breaker_transition> transition;
  if (state_ == breaker_state::open) {
    transition = set_state_locked(breaker_state::half_open);
    trial_taken_ = false;
    // Trials are possible from now on: schedulers reading next_attempt_steady see the attempt as due.
    next_attempt_steady_ = now.steady;
    next_attempt_at_ = now.wall;
    changed_locked();
  }
  unlock_and_deliver(lock);
  return transition;
}

void circuit_breaker::reconfigure(config::breaker_config settings) {
  auto next = sanitized(std::move(settings));
  next.name = name_;
  std::lock_guard lock(mutex_);
  // Every reload reconfigures every breaker; an unchanged one must not look changed to the views.
  if (next == settings_) return;
  // The evidence of one mode means nothing to the other.
  if (next.mode != settings_.mode) {
    consecutive_failures_ = 0;
    window_.clear();
  }
  while (window_.size() > static_cast<std::size_t>(next.window_size))
    window_.pop_front();
  settings_ = std::move(next);
  changed_locked();
}

breaker_snapshot circuit_breaker::snapshot() const {
  std::lock_guard lock(mutex_);
  breaker_snapshot s;
  s.name = name_;
  s.state = state_;
  s.mode = settings_.mode;
  s.failure_count = failure_count_locked();
  s.window_calls = settings_.mode == config::breaker_mode::rate ? static_cast<int>(window_.size()) : 0;
  s.failure_threshold = settings_.failure_threshold;
  s.recovery_timeout_s = settings_.recovery_timeout_s;
  s.current_recovery_timeout_s = state_ == breaker_state::open ? current_timeout_s_ : backoff_s_locked();
  s.trial_in_progress = state_ == breaker_state::half_open && trial_taken_;
  s.opened_at = opened_at_;
  s.next_attempt_at = next_attempt_at_;
  s.next_attempt_steady = next_attempt_steady_;
  s.last_failure_at = last_failure_at_;
  s.last_failure = last_failure_;
  s.times_opened = times_opened_;
  s.successes = successes_;
  s.failures = failures_;
  s.rejected = rejected_;
  s.version = version_;
  return s;
}

breaker_state circuit_breaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void circuit_breaker::set_listener(listener l) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(l);
}

void circuit_breaker::changed_locked() {
  ++version_;
  if (changes_) changes_->fetch_add(1, std::memory_order_release);
}

void circuit_breaker::set_change_counter(std::shared_ptr<std::atomic<std::uint64_t>> changes) {
  std::lock_guard lock(mutex_);
  changes_ = std::move(changes);
}

void circuit_breaker::count_success_locked() {
  ++successes_;
  changed_locked();
}

void circuit_breaker::count_failure_locked(const instant& now, std::string message) {
  ++failures_;
  changed_locked();
  last_failure_at_ = now.wall;
  last_failure_ = std::move(message);
}

bool circuit_breaker::in_current_period_locked(const admission_ticket& ticket) const {
  if (ticket.epoch != epoch_) return false;
  // Every state change moves the epoch, so the state checks only guard against a ticket not made by allow().
  switch (ticket.kind) {
    case admission::admitted: return state_ == breaker_state::closed;
    case admission::trial: return state_ == breaker_state::half_open && trial_taken_;
    case admission::rejected: return false;
  }
  return false;
}

std::optional<breaker_transition> circuit_breaker::success_locked(const instant& now, millis_d latency) {
  switch (state_) {
    case breaker_state::closed:
      if (settings_.mode == config::breaker_mode::consecutive) {
        consecutive_failures_ = 0;
      } else {
        const bool slow = settings_.slow_call_ms && latency.count() >= *settings_.slow_call_ms;
        push_outcome_locked({false, slow});
        if (should_open_locked()) return open_locked(now);
      }
      break;
    case breaker_state::half_open:
      if (trial_taken_) return close_locked();
      break;
    case breaker_state::open: break;
  }
  return std::nullopt;
}

std::optional<breaker_transition> circuit_breaker::failure_locked(const instant& now) {
  switch (state_) {
    case breaker_state::closed:
      if (settings_.mode == config::breaker_mode::consecutive) {
        ++consecutive_failures_;
        if (consecutive_failures_ >= settings_.failure_threshold) return open_locked(now);
      } else {
        push_outcome_locked({true, false});
        if (should_open_locked()) return open_locked(now);
      }
      break;
    case breaker_state::half_open:
      if (trial_taken_) {
        if (settings_.mode == config::breaker_mode::consecutive) ++consecutive_failures_;
        return open_locked(now);
      }
      break;
    case breaker_state::open: break;
  }
  return std::nullopt;
}

std::optional<breaker_transition> circuit_breaker::open_locked(const instant& now) {
  current_timeout_s_ = backoff_s_locked();
  ++opens_in_episode_;
  ++times_opened_;
  trial_taken_ = false;
  window_.clear();
  start_open_period_locked(now);
  return set_state_locked(breaker_state::open);
}

void circuit_breaker::start_open_period_locked(const instant& now) {
  const double jittered = current_timeout_s_ * (1.0 + settings_.jitter * draw_unit_locked());
  opened_at_ = now.wall;
  next_attempt_steady_ = now.steady + to_duration(jittered);
  next_attempt_at_ = to_wall(*next_attempt_steady_, now);
}

std::optional<breaker_transition> circuit_breaker::close_locked() {
  auto transition = set_state_locked(breaker_state::closed);
  trial_taken_ = false;
  consecutive_failures_ = 0;
  window_.clear();
  opens_in_episode_ = 0;
  opened_at_.reset();
  next_attempt_at_.reset();
  next_attempt_steady_.reset();
  return transition;
}

std::optional<breaker_transition> circuit_breaker::set_state_locked(breaker_state to) {
  if (to == state_) return std::nullopt;
  breaker_transition transition{name_, state_, to};
  pending_.push_back(transition);
  state_ = to;
  ++epoch_;
  return transition;
}

bool circuit_breaker::should_open_locked() const {
  const auto calls = static_cast<double>(window_.size());
  if (window_.size() < static_cast<std::size_t>(settings_.minimum_calls)) return false;
  const auto failed =
      static_cast<double>(std::count_if(window_.begin(), window_.end(), [](outcome o) { return o.failed; }));
  if (failed * 100.0 >= settings_.failure_rate_threshold * calls) return true;
  if (!settings_.slow_call_ms) return false;
  const auto slow =
      static_cast<double>(std::count_if(window_.begin(), window_.end(), [](outcome o) { return o.slow; }));
  return slow * 100.0 >= settings_.slow_call_rate_threshold * calls;
}

void circuit_breaker::push_outcome_locked(outcome o) {
  window_.push_back(o);
  while (window_.size() > static_cast<std::size_t>(settings_.window_size))
    window_.pop_front();
}

double circuit_breaker::backoff_s_locked() const {
  // Past 2^64 the cap has long applied; bounding k keeps the product finite.
  const int k = std::min(opens_in_episode_, 64);
  return std::min(std::ldexp(settings_.recovery_timeout_s, k), settings_.max_recovery_timeout_s);
}

double circuit_breaker::draw_unit_locked() {
  const double u = random_ ? random_() : std::uniform_real_distribution<double>{-1.0, 1.0}(engine_);
  return std::isnan(u) ? 0.0 : std::clamp(u, -1.0, 1.0);
}

int circuit_breaker::failure_count_locked() const {
  if (settings_.mode == config::breaker_mode::consecutive) return consecutive_failures_;
  return static_cast<int>(std::count_if(window_.begin(), window_.end(), [](outcome o) { return o.failed; }));
}

void circuit_breaker::unlock_and_deliver(std::unique_lock<std::mutex>& lock) {
  // A thread already delivering will deliver ours too, after the earlier ones: order is preserved.
  if (pending_.empty() || delivering_) {
    lock.unlock();
    return;
  }
  delivering_ = true;
  while (!pending_.empty()) {
    const auto transition = std::move(pending_.front());
    pending_.pop_front();
    const auto notify = listener_;
    lock.unlock();
    try {
      if (notify) notify(transition);
    } catch (...) {
      lock.lock();
      delivering_ = false;
      throw;
    }
    lock.lock();
  }
  delivering_ = false;
  lock.unlock();
}

}  // namespace healthd
