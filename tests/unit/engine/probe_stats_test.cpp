#include "healthd/engine/probe_stats.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const steady_time t0{std::chrono::hours{1000}};

TEST(probe_stats, empty_has_no_figures) {
  probe_stats stats;
  const auto s = stats.last_hour(t0);
  EXPECT_EQ(s.probes, 0U);
  EXPECT_FALSE(s.availability.has_value());
  EXPECT_FALSE(s.p95_ms.has_value());
}

TEST(probe_stats, availability_counts_passed_probes) {
  probe_stats stats;
  for (int i = 0; i < 10; ++i)
    stats.record(t0 + seconds{i}, 1.0, i != 3);
  const auto s = stats.last_hour(t0 + seconds{10});
  EXPECT_EQ(s.probes, 10U);
  EXPECT_DOUBLE_EQ(*s.availability, 0.9);
}

TEST(probe_stats, percentiles_fall_in_the_right_bins) {
  probe_stats stats;
  for (int i = 0; i < 90; ++i)
    stats.record(t0, 2.0, true);
  for (int i = 0; i < 10; ++i)
    stats.record(t0, 400.0, true);
  const auto s = stats.last_hour(t0);
  // bins are 25% wide: the estimate is the bin's upper bound, within 25% above the true value
  EXPECT_GE(*s.p50_ms, 2.0);
  EXPECT_LE(*s.p50_ms, 2.5);
  EXPECT_GE(*s.p95_ms, 400.0);
  EXPECT_LE(*s.p95_ms, 500.0);
}

TEST(probe_stats, minutes_older_than_an_hour_drop_out) {
  probe_stats stats;
  stats.record(t0, 1.0, false);
  stats.record(t0 + minutes{30}, 1.0, true);
  EXPECT_EQ(stats.last_hour(t0 + minutes{59}).probes, 2U);
  const auto later = stats.last_hour(t0 + minutes{61});
  EXPECT_EQ(later.probes, 1U);
  EXPECT_DOUBLE_EQ(*later.availability, 1.0);
}

TEST(probe_stats, reused_bucket_starts_empty) {
  probe_stats stats;
  stats.record(t0, 1.0, false);
  stats.record(t0 + minutes{60}, 1.0, true);  // same slot, an hour later
  const auto s = stats.last_hour(t0 + minutes{60});
  EXPECT_EQ(s.probes, 1U);
  EXPECT_DOUBLE_EQ(*s.availability, 1.0);
}

TEST(probe_stats, extreme_latencies_land_in_edge_bins) {
  EXPECT_EQ(probe_stats::bin_for(0.0), 0U);
  EXPECT_EQ(probe_stats::bin_for(-5.0), 0U);
  EXPECT_EQ(probe_stats::bin_for(1e12), probe_stats::bin_count - 1);
  EXPECT_LT(probe_stats::bin_upper_ms(probe_stats::bin_for(3.0)) / 3.0, 1.25 + 1e-9);
}

}  // namespace
}  // namespace healthd
