#pragma once
// A clock that moves only when a test says so. Both the steady and the wall reading advance together.

#include "healthd/core/clock.hpp"

#include <chrono>
#include <mutex>

namespace healthd::test {

class manual_clock final : public clock {
public:
  // Wall time starts at 2026-01-01T00:00:00Z so formatted timestamps in tests are predictable.
  manual_clock()
      : now_{steady_time{} + std::chrono::hours{1000},
             wall_time{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}}} {}

  [[nodiscard]] instant now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }

  void advance(std::chrono::steady_clock::duration d) {
    std::lock_guard lock(mutex_);
    now_.steady += d;
    now_.wall += std::chrono::duration_cast<wall_time::duration>(d);
  }

  void advance_s(double seconds) { advance(to_duration(seconds)); }

private:
  mutable std::mutex mutex_;
  instant now_;
};

}  // namespace healthd::test
