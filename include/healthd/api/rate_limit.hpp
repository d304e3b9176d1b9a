#pragma once
// A sliding-window limit on admin heals (10 a minute by default): pure decision logic taking `now`, tested with a
// manual clock. Thread-safe (one internal mutex).

#include "healthd/core/clock.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

namespace healthd::api {

struct rate_decision {
  bool allowed = false;
  std::chrono::seconds retry_after{0};  // when refused: until a slot frees, rounded up, at least 1 s
};

class sliding_window_limiter {
public:
  // At most `limit` acquisitions in any `window`; a limit below 1 is treated as 1.
  sliding_window_limiter(std::size_t limit, std::chrono::steady_clock::duration window);

  // Takes a slot when one is free at `now`. A refusal takes nothing.
  [[nodiscard]] rate_decision try_acquire(steady_time now);

private:
  const std::size_t limit_;
  const std::chrono::steady_clock::duration window_;
  std::mutex mutex_;
  std::deque<steady_time> granted_;  // times of the acquisitions still inside the window, oldest first
};

}  // namespace healthd::api
