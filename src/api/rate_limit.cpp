#include "healthd/api/rate_limit.hpp"

#include <algorithm>

namespace healthd::api {

sliding_window_limiter::sliding_window_limiter(std::size_t limit, std::chrono::steady_clock::duration window)
    : limit_(std::max<std::size_t>(limit, 1)), window_(window) {}

rate_decision sliding_window_limiter::try_acquire(steady_time now) {
  std::lock_guard lock(mutex_);
  while (!granted_.empty() && now - granted_.front() >= window_)
    granted_.pop_front();
  if (granted_.size() < limit_) {
    granted_.push_back(now);
    return {true, std::chrono::seconds{0}};
  }
  const auto wait = granted_.front() + window_ - now;
  auto retry = std::chrono::ceil<std::chrono::seconds>(wait);
  return {false, std::max(retry, std::chrono::seconds{1})};
}

}  // namespace healthd::api
