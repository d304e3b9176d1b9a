#pragma once
// A circuit breaker (docs/circuit-breakers.md). Pure decision logic: every call takes `now`, nothing reads a
// clock or does I/O. Thread-safe: all members may be called concurrently; the listener is called after the
// internal lock is released, in the calling thread.

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace healthd {

enum class admission {
  admitted,  // closed: go ahead
  trial,     // half_open: this caller is the single trial; it must report success, failure or abandon
  rejected,  // open, or half_open with the trial already taken
};

struct breaker_snapshot {
  std::string name;
  breaker_state state = breaker_state::closed;
  config::breaker_mode mode = config::breaker_mode::consecutive;
  int failure_count = 0;  // consecutive failures, or failures in the window (rate mode)
  int failure_threshold = 0;
  double recovery_timeout_s = 0;
  double current_recovery_timeout_s = 0;  // the timeout the next (or current) open period uses, without jitter
  std::optional<wall_time> opened_at;
  std::optional<wall_time> next_attempt_at;
  std::optional<steady_time> next_attempt_steady;
  std::optional<wall_time> last_failure_at;
  std::optional<std::string> last_failure;
  std::uint64_t times_opened = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t rejected = 0;
  std::uint64_t version = 0;  // increases on every change; views re-render when it moves
};

struct breaker_transition {
  std::string name;
  breaker_state from;
  breaker_state to;
};

class circuit_breaker {
public:
  using listener = std::function<void(const breaker_transition&)>;
  // Returns u in [-1, 1]; the jitter applied is `jitter * u`. Injected so tests can pin it.
  using unit_random = std::function<double()>;

  circuit_breaker(config::breaker_config settings, unit_random random = {});

  circuit_breaker(const circuit_breaker&) = delete;
  circuit_breaker& operator=(const circuit_breaker&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return settings_.name; }
  [[nodiscard]] const config::breaker_config& settings() const noexcept { return settings_; }

  // Asks to make a call. open -> half_open happens here once the recovery timeout has elapsed.
  [[nodiscard]] admission allow(const instant& now);

  // Outcome of an admitted call (or of the trial). `latency` feeds the slow-call rule in rate mode.
  void record_success(const instant& now, millis_d latency = millis_d{0});
  void record_failure(const instant& now, std::string message, millis_d latency = millis_d{0});
  // An admitted call that could not start: counts as neither; a trial slot is given back.
  void abandon(const instant& now);

  void force_open(const instant& now);
  void reset(const instant& now);      // close now; the backoff doubling starts over
  void trial_now(const instant& now);  // open -> half_open at once; no-op in other states

  // Replaces the settings (config reload) keeping state and counters; the next open period uses them.
  void reconfigure(config::breaker_config settings);

  [[nodiscard]] breaker_snapshot snapshot() const;
  [[nodiscard]] breaker_state state() const;

  void set_listener(listener l);

private:
  struct outcome {
    bool failed;
    bool slow;
  };

  // Each returns the transition it made, if any; callers notify after unlocking.
  std::optional<breaker_transition> open_locked(const instant& now);
  std::optional<breaker_transition> close_locked();
  std::optional<breaker_transition> half_open_locked();
  std::optional<breaker_transition> set_state_locked(breaker_state to);
  [[nodiscard]] bool should_open_locked() const;
  void push_outcome_locked(outcome o);
  [[nodiscard]] double backoff_s_locked() const;  // without jitter
  [[nodiscard]] int failure_count_locked() const;
  void notify(const std::optional<breaker_transition>& t);

  mutable std::mutex mutex_;
  config::breaker_config settings_;
  unit_random random_;
  std::mt19937_64 engine_;
  listener listener_;

  breaker_state state_ = breaker_state::closed;
  bool trial_taken_ = false;
  int consecutive_failures_ = 0;
  std::deque<outcome> window_;
  int open_count_in_episode_ = 0;  // k: opens since the breaker last closed
  double current_timeout_s_ = 0;   // of the current or last open period, without jitter
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
};

}  // namespace healthd
