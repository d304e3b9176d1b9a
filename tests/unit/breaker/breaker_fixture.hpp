#pragma once
// Shared helpers for the breaker tests: settings builders, a pinned random source, a transition recorder and
// drivers that move a breaker through its states with a manual clock.

#include "healthd/breaker/circuit_breaker.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace healthd {

// Readable gtest failures for states ("open", not "4-byte object <01-00 00-00>").
inline void PrintTo(breaker_state s, std::ostream* os) { *os << to_string(s); }

}  // namespace healthd

namespace healthd::test {

inline config::breaker_config consecutive_settings(int failure_threshold = 3, double recovery_timeout_s = 60,
                                                   double max_recovery_timeout_s = 900, double jitter = 0) {
  config::breaker_config c;
  c.name = "database";
  c.failure_threshold = failure_threshold;
  c.recovery_timeout_s = recovery_timeout_s;
  c.max_recovery_timeout_s = max_recovery_timeout_s;
  c.jitter = jitter;
  return c;
}

inline config::breaker_config rate_settings(int window_size, int minimum_calls, double failure_rate_threshold) {
  auto c = consecutive_settings();
  c.mode = config::breaker_mode::rate;
  c.window_size = window_size;
  c.minimum_calls = minimum_calls;
  c.failure_rate_threshold = failure_rate_threshold;
  return c;
}

// A transition of the fixture's breaker ("database"), to compare with what the breaker's calls return.
inline breaker_transition transition(breaker_state from, breaker_state to) { return {"database", from, to}; }

inline circuit_breaker::unit_random pinned(double u) {
  return [u] { return u; };
}

// Seconds from `now` until the breaker's next attempt (steady clock).
inline double seconds_until_attempt(const breaker_snapshot& s, const instant& now) {
  EXPECT_TRUE(s.next_attempt_steady.has_value());
  if (!s.next_attempt_steady) return -1;
  return seconds_d(*s.next_attempt_steady - now.steady).count();
}

inline void fail_times(circuit_breaker& b, const manual_clock& clock, int n) {
  for (int i = 0; i < n; ++i)
    b.record_failure(clock.now(), "refused " + std::to_string(i));
}

// From open: waits out the open period exactly and takes the trial.
inline void take_trial(circuit_breaker& b, manual_clock& clock) {
  const auto s = b.snapshot();
  ASSERT_EQ(s.state, breaker_state::open);
  const auto now = clock.now();
  if (*s.next_attempt_steady > now.steady) clock.advance(*s.next_attempt_steady - now.steady);
  ASSERT_EQ(b.allow(clock.now()), admission::trial);
}

class transition_log {
public:
  [[nodiscard]] circuit_breaker::listener listener() {
    return [this](const breaker_transition& t) {
      std::lock_guard lock(mutex_);
      seen_.push_back(t);
    };
  }

  [[nodiscard]] std::vector<std::pair<breaker_state, breaker_state>> steps() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<breaker_state, breaker_state>> out;
    out.reserve(seen_.size());
    for (const auto& t : seen_)
      out.emplace_back(t.from, t.to);
    return out;
  }

  [[nodiscard]] std::vector<breaker_transition> all() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<breaker_transition> seen_;
};

}  // namespace healthd::test
