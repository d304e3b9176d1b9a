#include "healthd/engine/probe_stats.hpp"

#include <chrono>
#include <cmath>

namespace healthd {

namespace {

constexpr double first_bin_ms = 0.05;
constexpr double growth = 1.25;

std::int64_t minute_of(steady_time t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

}  // namespace

double probe_stats::bin_upper_ms(std::size_t i) { return first_bin_ms * std::pow(growth, static_cast<double>(i)); }

std::size_t probe_stats::bin_for(double latency_ms) {
  if (!(latency_ms > first_bin_ms)) return 0;  // also catches NaN
  const double i = std::ceil(std::log(latency_ms / first_bin_ms) / std::log(growth));
  return i >= static_cast<double>(bin_count - 1) ? bin_count - 1 : static_cast<std::size_t>(i);
}

void probe_stats::record(steady_time at, double latency_ms, bool passed) {
  const auto minute = minute_of(at);
  auto& b = buckets_[static_cast<std::size_t>(minute % static_cast<std::int64_t>(minutes))];
  if (b.minute != minute) b = minute_bucket{.minute = minute};
  ++b.probes;
  if (passed) ++b.passed;
  ++b.bins[bin_for(latency_ms)];
}

hour_summary probe_stats::last_hour(steady_time now) const {
  const auto current = minute_of(now);
  hour_summary s;
  std::array<std::uint64_t, bin_count> bins{};
  for (const auto& b : buckets_) {
    if (b.minute < 0 || b.minute > current || b.minute <= current - static_cast<std::int64_t>(minutes)) continue;
    s.probes += b.probes;
    s.passed += b.passed;
    for (std::size_t i = 0; i < bin_count; ++i)
      bins[i] += b.bins[i];
  }
  if (s.probes == 0) return s;
  s.availability = static_cast<double>(s.passed) / static_cast<double>(s.probes);
  const auto percentile = [&](double q) {
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(s.probes)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bin_count; ++i) {
      seen += bins[i];
      if (seen >= rank) return bin_upper_ms(i);
    }
    return bin_upper_ms(bin_count - 1);
  };
  s.p50_ms = percentile(0.50);
  s.p95_ms = percentile(0.95);
  return s;
}

}  // namespace healthd
