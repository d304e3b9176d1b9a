#pragma once
// Time as the decision logic sees it. Pure code never reads a clock: it takes an `instant` argument, so tests
// drive it with tests/support/manual_clock.hpp and never sleep.

#include <chrono>

namespace healthd {

using steady_time = std::chrono::steady_clock::time_point;
using wall_time = std::chrono::system_clock::time_point;
using seconds_d = std::chrono::duration<double>;
using millis_d = std::chrono::duration<double, std::milli>;

// One moment on both clocks: `steady` for intervals and deadlines, `wall` only for timestamps shown to people.
struct instant {
  steady_time steady{};
  wall_time wall{};
};

// Source of `instant`s for the layers that do I/O. Thread-safe implementations only.
class clock {
public:
  virtual ~clock() = default;
  [[nodiscard]] virtual instant now() const = 0;
};

class system_clock final : public clock {
public:
  [[nodiscard]] instant now() const override {
    return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
  }
};

// Converts a fractional number of seconds (config values accept fractions) to a steady-clock duration.
[[nodiscard]] inline std::chrono::steady_clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds_d{seconds});
}

// The wall-clock time at which a steady-clock moment happens (or happened), as seen from `now`.
[[nodiscard]] inline wall_time to_wall(steady_time at, const instant& now) {
  return now.wall + std::chrono::duration_cast<wall_time::duration>(at - now.steady);
}

}  // namespace healthd
