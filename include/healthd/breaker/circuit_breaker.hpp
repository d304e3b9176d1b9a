#pragma once
// A circuit breaker (docs/circuit-breakers.md). Pure decision logic: every call takes `now`, nothing reads a
// clock or does I/O. Thread-safe: all members may be called concurrently (one internal mutex). The listener is
// never called under that mutex; transitions reach it in the order they happened (see set_listener).

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace healthd {

enum class admission {
  admitted,  // closed: go ahead
  trial,     // half_open: this caller is the single trial; it must report success, failure or abandon
  rejected,  // open, or half_open with the trial already taken
};

struct breaker_transition {
  std::string name;
  breaker_state from;
  breaker_state to;
  friend bool operator==(const breaker_transition&, const breaker_transition&) = default;
};

// What allow() hands out. Compares equal to its admission, so `b.allow(now) == admission::trial` reads as before.
struct admission_ticket {
  admission kind = admission::rejected;
  std::uint64_t epoch = 0;                       // the breaker's period when admitted (see circuit_breaker)
  std::optional<breaker_transition> transition;  // open -> half_open caused by this call, if any
  friend bool operator==(const admission_ticket& t, admission a) noexcept { return t.kind == a; }
};

[[nodiscard]] std::string_view to_string(admission a) noexcept;
// For logs and test failure messages.
std::ostream& operator<<(std::ostream& os, admission a);
std::ostream& operator<<(std::ostream& os, const admission_ticket& t);
std::ostream& operator<<(std::ostream& os, const breaker_transition& t);

struct breaker_snapshot {
  std::string name;
  breaker_state state = breaker_state::closed;
  config::breaker_mode mode = config::breaker_mode::consecutive;
  int failure_count = 0;  // consecutive failures, or failures in the window (rate mode)
  int window_calls = 0;   // rate mode: calls in the window; 0 in consecutive mode
  int failure_threshold = 0;
  double recovery_timeout_s = 0;
  double current_recovery_timeout_s = 0;  // the timeout the next (or current) open period uses, without jitter
  bool trial_in_progress = false;         // half_open and the trial has been handed out
  // The latest open period: set while open or half_open, cleared when the breaker closes.
  std::optional<wall_time> opened_at;
  std::optional<wall_time> next_attempt_at;        // for people
  std::optional<steady_time> next_attempt_steady;  // for scheduling
  std::optional<wall_time> last_failure_at;
  std::optional<std::string> last_failure;
  std::uint64_t times_opened = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t rejected = 0;
  std::uint64_t version = 0;  // increases on every change of any field above; views re-render when it moves
};

class circuit_breaker {
public:
  using listener = std::function<void(const breaker_transition&)>;
  // Returns u in [-1, 1] (clamped if outside); the jitter applied is `jitter * u`. Injected so tests can pin it.
  // Called under the breaker's mutex: it must be cheap and must not call back into the breaker.
  using unit_random = std::function<double()>;

  // Out-of-range settings are clamped (threshold, window and minimum at least 1, jitter in [0, 1], times >= 0);
  // the config loader rejects them before they get here.
  explicit circuit_breaker(config::breaker_config settings, unit_random random = {});

  circuit_breaker(const circuit_breaker&) = delete;
  circuit_breaker& operator=(const circuit_breaker&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }  // fixed for the breaker's lifetime
  [[nodiscard]] config::breaker_config settings() const;                    // a copy: reconfigure() may swap them

  // Asks to make a call. open -> half_open happens here once the recovery timeout has elapsed; the caller that
  // causes it gets the trial, and the transition in its ticket.
  [[nodiscard]] admission_ticket allow(const instant& now);

  // The outcome of a call admitted with `ticket`; `latency` feeds the slow-call rule in rate mode. Returns the
  // transition it caused (closed -> open, half_open -> closed, half_open -> open), if any.
  //
  // The breaker's epoch moves on every state change and on every reset() and force_open(): each starts a new
  // period. A result whose ticket is from an earlier period, or was rejected, is late: it is counted (successes or
  // failures, last_failure) but changes neither the state nor the failure count or window, and returns nullopt.
  // So a trial interrupted by reset() or force_open(), or a closed-state call that outlived an open, never moves
  // the breaker.
  std::optional<breaker_transition> record_success(const admission_ticket& ticket, const instant& now,
                                                   millis_d latency = millis_d{0});
  std::optional<breaker_transition> record_failure(const admission_ticket& ticket, const instant& now,
                                                   std::string message, millis_d latency = millis_d{0});
  // An admitted call that could not start: counts as neither; the trial slot is given back. Does nothing for a
  // ticket from an earlier period (a newer trial may hold the slot) or for a ticket that was not a trial.
  void abandon(const admission_ticket& ticket, const instant& now);

  // Ticket-less results, for callers that cannot keep the ticket: the breaker cannot tell which call they belong
  // to. A result while open, or while half_open with no trial handed out, is counted but changes neither the state
  // nor the failure count; while a trial is out, the first result reported settles it; while closed, it counts as
  // a closed-state result even if its call was admitted before a reset().
  std::optional<breaker_transition> record_success(const instant& now, millis_d latency = millis_d{0});
  std::optional<breaker_transition> record_failure(const instant& now, std::string message,
                                                   millis_d latency = millis_d{0});
  // Gives a handed-out trial slot back, if any. Never changes the state: always returns nullopt.
  std::optional<breaker_transition> abandon(const instant& now);

  // Manual operations, each returning the transition it caused. force_open and reset always start a new period
  // (see record_success); trial_now does when it moves the state.
  // force_open: opens now for the current recovery timeout and counts as an open; when already open, restarts the
  // open period with the same timeout (not counted again, no transition).
  std::optional<breaker_transition> force_open(const instant& now);
  // Closes now; the failure count and the backoff doubling start over. Ticketed calls in flight become late.
  std::optional<breaker_transition> reset(const instant& now);
  // open -> half_open at once; no-op in other states.
  std::optional<breaker_transition> trial_now(const instant& now);

  // Replaces the settings (config reload) keeping state and counters. Never transitions: a running open period
  // keeps its deadline, the next decision and the next open period use the new settings. Equal settings: no-op.
  void reconfigure(config::breaker_config settings);

  [[nodiscard]] breaker_snapshot snapshot() const;
  [[nodiscard]] breaker_state state() const;

  // Each state change is delivered once, in the order the changes happened, after the mutex is released: by the
  // thread that made the change, or by a thread already delivering earlier ones (then the changing call returns
  // before its transition is delivered). The listener may call back into the breaker; it must not throw.
  void set_listener(listener l);

  // `changes` is incremented (release) after every change of the snapshot, under the breaker's mutex, so that a
  // registry reads "did any breaker change" from one counter instead of copying every snapshot.
  void set_change_counter(std::shared_ptr<std::atomic<std::uint64_t>> changes);

private:
  struct outcome {
    bool failed;
    bool slow;
  };

  // Transitions are queued in pending_ by set_state_locked (and returned to the caller that made them);
  // unlock_and_deliver hands them to the listener.
  // The ticket was handed out in this period and, if a trial, still holds the trial slot (not abandoned).
  [[nodiscard]] bool in_current_period_locked(const admission_ticket& ticket) const;
  std::optional<breaker_transition> success_locked(const instant& now, millis_d latency);
  std::optional<breaker_transition> failure_locked(const instant& now);
  void count_success_locked();
  void count_failure_locked(const instant& now, std::string message);
  std::optional<breaker_transition> open_locked(const instant& now);
  void start_open_period_locked(const instant& now);  // opened_at, next attempt (jittered) from current_timeout_s_
  std::optional<breaker_transition> close_locked();
  std::optional<breaker_transition> set_state_locked(breaker_state to);
  [[nodiscard]] bool should_open_locked() const;
  void push_outcome_locked(outcome o);
  [[nodiscard]] double backoff_s_locked() const;  // of the next open period, without jitter
  [[nodiscard]] double draw_unit_locked();
  [[nodiscard]] int failure_count_locked() const;
  void unlock_and_deliver(std::unique_lock<std::mutex>& lock);
  void changed_locked();  // version_ and the shared change counter

  const std::string name_;
  mutable std::mutex mutex_;
  config::breaker_config settings_;
  unit_random random_;
  std::mt19937_64 engine_;
  listener listener_;
  std::deque<breaker_transition> pending_;  // made, not yet delivered
  bool delivering_ = false;

  breaker_state state_ = breaker_state::closed;
  bool trial_taken_ = false;
  std::uint64_t epoch_ = 1;  // the period; moves on every state change, reset and force_open. 0 is never current
  int consecutive_failures_ = 0;
  std::deque<outcome> window_;
  int opens_in_episode_ = 0;      // k: opens since the breaker last closed
  double current_timeout_s_ = 0;  // of the current or last open period, without jitter
  std::optional<steady_time> next_attempt_steady_;
  std::optional<wall_time> opened_at_;
  std::optional<wall_time> next_attempt_at_;
  std::optional<wall_time> last_failure_at_;
  std::optional<std::string> last_failure_;
  std::uint64_t times_opened_ = 0;
  std::uint64_t successes_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t version_ = 0;
  std::shared_ptr<std::atomic<std::uint64_t>> changes_;
};

}  // namespace healthd
