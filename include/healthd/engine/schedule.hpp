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

}  // namespace healthd
