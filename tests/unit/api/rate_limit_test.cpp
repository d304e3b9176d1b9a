#include "healthd/api/rate_limit.hpp"

#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

namespace healthd::api {
namespace {

using namespace std::chrono_literals;

TEST(sliding_window_limiter, ten_in_a_minute_then_refused_with_retry_after) {
  test::manual_clock clock;
  sliding_window_limiter limiter(10, 1min);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(limiter.try_acquire(clock.now().steady).allowed) << i;
    clock.advance(1s);
  }
  // Ten taken at t=0..9 s; now t=10 s: the first frees at t=60 s.
  const auto refused = limiter.try_acquire(clock.now().steady);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 50s);
}

TEST(sliding_window_limiter, slot_frees_when_the_oldest_leaves_the_window) {
  test::manual_clock clock;
  sliding_window_limiter limiter(2, 1min);
  ASSERT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  clock.advance(30s);
  ASSERT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  clock.advance(29s);
  EXPECT_FALSE(limiter.try_acquire(clock.now().steady).allowed);
  clock.advance(1s);  // t=60 s: the first left the window
  EXPECT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  EXPECT_FALSE(limiter.try_acquire(clock.now().steady).allowed);
}

TEST(sliding_window_limiter, refusals_take_no_slot) {
  test::manual_clock clock;
  sliding_window_limiter limiter(1, 1min);
  ASSERT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  for (int i = 0; i < 100; ++i) {
    clock.advance(500ms);
    (void)limiter.try_acquire(clock.now().steady);
  }
  clock.advance(10s);  // t=60 s
  EXPECT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
}

TEST(sliding_window_limiter, retry_after_rounds_up_and_is_at_least_one_second) {
  test::manual_clock clock;
  sliding_window_limiter limiter(1, 1min);
  ASSERT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  clock.advance(58s + 100ms);
  EXPECT_EQ(limiter.try_acquire(clock.now().steady).retry_after, 2s);
  clock.advance(1s + 899ms);  // 1 ms left
  EXPECT_EQ(limiter.try_acquire(clock.now().steady).retry_after, 1s);
}

TEST(sliding_window_limiter, limit_below_one_is_treated_as_one) {
  test::manual_clock clock;
  sliding_window_limiter limiter(0, 1min);
  EXPECT_TRUE(limiter.try_acquire(clock.now().steady).allowed);
  EXPECT_FALSE(limiter.try_acquire(clock.now().steady).allowed);
}

}  // namespace
}  // namespace healthd::api
