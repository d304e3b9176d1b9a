#pragma once
// Per-subsystem availability and probe latency percentiles over the last hour, from per-minute histograms so
// memory stays bounded (60 buckets of fixed size, whatever the probe rate). Pure; not thread-safe.

#include "healthd/core/clock.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace healthd {

struct hour_summary {
  std::uint64_t probes = 0;
  std::uint64_t passed = 0;
  std::optional<double> availability;  // passed / probes, nullopt without probes
  std::optional<double> p50_ms;
  std::optional<double> p95_ms;
};

class probe_stats {
public:
  // Latency bins grow geometrically by 25% from 0.05 ms; the last bin holds everything above ~60 s.
  static constexpr std::size_t bin_count = 64;
  static constexpr std::size_t minutes = 60;

  void record(steady_time at, double latency_ms, bool passed);
  [[nodiscard]] hour_summary last_hour(steady_time now) const;

  // The upper bound of bin i, in ms (the percentile estimate reported for that bin).
  [[nodiscard]] static double bin_upper_ms(std::size_t i);
  [[nodiscard]] static std::size_t bin_for(double latency_ms);

private:
  struct minute_bucket {
    std::int64_t minute = -1;  // steady minutes since epoch; -1 unused
    std::uint64_t probes = 0;
    std::uint64_t passed = 0;
    std::array<std::uint32_t, bin_count> bins{};
  };

  std::array<minute_bucket, minutes> buckets_{};
};

}  // namespace healthd
