#include "healthd/engine/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace healthd {

steady_time next_tick(steady_time start, steady_time::duration interval, steady_time now) {
  if (interval <= steady_time::duration::zero()) return now;
  if (now < start) return start;
  const auto elapsed_ticks = (now - start) / interval;
  return start + (elapsed_ticks + 1) * interval;
}

steady_time::duration retry_delay(double retry_interval_s, double loop_interval_s, int consecutive_failures) {
  const int doublings = std::clamp(consecutive_failures - 1, 0, 62);
  const double delay = std::min(retry_interval_s * std::ldexp(1.0, doublings), loop_interval_s);
  return to_duration(delay);
}

}  // namespace healthd
