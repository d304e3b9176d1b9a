#pragma once
// When to probe next (docs/healing.md, "Loops"). Pure functions of their arguments.

#include "healthd/core/clock.hpp"

namespace healthd {

// The first tick of a loop started at `start` with `interval` that is strictly after `now`. Ticks sit on the
// start + k * interval grid, so slow probes never make a loop drift; ticks missed while busy are skipped.
[[nodiscard]] steady_time next_tick(steady_time start, steady_time::duration interval, steady_time now);

// Faster while failing: after the n-th consecutive failed probe (n >= 1), re-probe after retry_interval * 2^(n-1),
// capped at the loop interval.
[[nodiscard]] steady_time::duration retry_delay(double retry_interval_s, double loop_interval_s,
                                                int consecutive_failures);

// Subsystems without a breaker are healed after `after_failures` consecutive failures and again after each
// further `after_failures`.
[[nodiscard]] constexpr bool heal_due_without_breaker(int consecutive_failures, int after_failures) noexcept {
  return after_failures > 0 && consecutive_failures > 0 && consecutive_failures % after_failures == 0;
}

// How late a loop's tick may be before the daemon counts its I/O threads as wedged and stops feeding the systemd
// watchdog: a fixed 5 s, whatever the loop's interval (a tick only pokes the runners, so no loop is that late unless
// the threads are stuck).
inline constexpr std::chrono::seconds loop_grace{5};

[[nodiscard]] constexpr bool loop_on_time(steady_time next_due, steady_time now) noexcept {
  return now <= next_due + loop_grace;
}

}  // namespace healthd
