// Concurrent callers: the single half-open trial, counter consistency, ordered listener delivery. Meant to run
// under TSan too (-DHEALTHD_SANITIZE=tsan); no sleeps, the manual clock moves time.
#include "healthd/breaker/circuit_breaker.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

namespace healthd {
namespace {

using test::consecutive_settings;
using test::fail_times;
using test::manual_clock;
using test::pinned;
using test::transition_log;

TEST(circuit_breaker_concurrency, eight_concurrent_callers_get_exactly_one_trial) {
  constexpr int threads = 8;
  constexpr int rounds = 100;
  manual_clock clock;
  circuit_breaker b(consecutive_settings(1, 1, 1), pinned(0));
  fail_times(b, clock, 1);
  for (int round = 0; round < rounds; ++round) {
    // Alternate the two ways into half_open: the deadline passing inside allow(), and trial_now().
    if (round % 2 == 0) {
      clock.advance_s(1);
    } else {
      b.trial_now(clock.now());
    }
    std::latch start(threads);
    std::atomic<int> trials{0};
    std::atomic<int> rejections{0};
    std::vector<std::thread> callers;
    callers.reserve(threads);
    const auto now = clock.now();
    for (int t = 0; t < threads; ++t) {
      callers.emplace_back([&] {
        start.arrive_and_wait();
        switch (b.allow(now).kind) {
          case admission::trial: ++trials; break;
          case admission::rejected: ++rejections; break;
          case admission::admitted: ADD_FAILURE() << "admitted while not closed"; break;
        }
      });
    }
    for (auto& c : callers)
      c.join();
    ASSERT_EQ(trials.load(), 1) << "round " << round;
    ASSERT_EQ(rejections.load(), threads - 1) << "round " << round;
    ASSERT_EQ(b.state(), breaker_state::half_open);
    b.record_failure(clock.now(), "trial failed");
    ASSERT_EQ(b.state(), breaker_state::open);
  }
  const auto s = b.snapshot();
  EXPECT_EQ(s.rejected, static_cast<std::uint64_t>(rounds * (threads - 1)));
  EXPECT_EQ(s.times_opened, static_cast<std::uint64_t>(rounds + 1));
}

// Each trial's life is stamped on one global sequence: `admitted` after allow() handed it out, `reported` just
// before its record_*/abandon call. A breaker that hands out the next trial only after the previous one was
// reported gives intervals that never overlap: each trial is admitted after the previous one's report. Two trials
// out at once show as an admission before the previous report.
TEST(circuit_breaker_concurrency, at_most_one_trial_in_flight_under_contention) {
  struct trial_interval {
    std::uint64_t admitted;
    std::uint64_t reported;
  };
  constexpr int workers = 4;
  constexpr int calls_per_worker = 500;
  manual_clock clock;
  circuit_breaker b(consecutive_settings(3, 0.001, 0.004, 0.5));  // real generator
  std::atomic<std::uint64_t> sequence{0};
  std::vector<std::vector<trial_interval>> trials(workers);
  std::atomic<std::uint64_t> successes{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> rejections{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      auto& mine = trials[static_cast<std::size_t>(w)];
      // Rejections do not count towards the calls; a rejected caller moves time on, so every open period ends.
      for (int i = 0; i < calls_per_worker;) {
        const auto ticket = b.allow(clock.now());
        if (ticket == admission::rejected) {
          ++rejections;
          clock.advance(std::chrono::microseconds{200});
          std::this_thread::yield();
          continue;
        }
        ++i;
        const bool trial = ticket == admission::trial;
        const auto admitted = trial ? sequence.fetch_add(1) + 1 : 0;
        // Stay in flight a moment, so a second trial handed out meanwhile would be seen.
        if (trial) std::this_thread::yield();
        const auto reported = trial ? sequence.fetch_add(1) + 1 : 0;
        // Mostly failures, so the breaker keeps reopening; trials end in each of the three ways.
        const int pick = trial ? (i + w) % 3 : ((i + w) % 4 == 0 ? 0 : 1);
        switch (pick) {
          case 0:
            b.record_success(ticket, clock.now(), millis_d{1});
            ++successes;
            break;
          case 1:
            b.record_failure(ticket, clock.now(), "down");
            ++failures;
            break;
          default: b.abandon(ticket, clock.now());
        }
        if (trial) mine.push_back({admitted, reported});
      }
    });
  }
  for (auto& t : threads)
    t.join();

  std::vector<trial_interval> all;
  for (const auto& mine : trials)
    all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end(), [](const auto& l, const auto& r) { return l.admitted < r.admitted; });
  ASSERT_GE(all.size(), 100U) << "too few trials to compare";
  int overlaps = 0;
  for (std::size_t i = 1; i < all.size(); ++i) {
    if (all[i].admitted < all[i - 1].reported) {
      if (overlaps++ == 0)
        ADD_FAILURE() << "trial admitted at " << all[i].admitted << " while the one admitted at " << all[i - 1].admitted
                      << " was reported only at " << all[i - 1].reported;
    }
  }
  EXPECT_EQ(overlaps, 0) << "of " << all.size() << " trials";
  const auto s = b.snapshot();
  EXPECT_EQ(s.successes, successes.load());
  EXPECT_EQ(s.failures, failures.load());
  EXPECT_EQ(s.rejected, rejections.load());
  EXPECT_GT(s.times_opened, 0U);
}

TEST(circuit_breaker_concurrency, transitions_reach_listener_as_an_unbroken_chain) {
  constexpr int workers = 4;
  constexpr int iterations = 2000;
  manual_clock clock;
  transition_log log;
  circuit_breaker b(consecutive_settings(2, 0.001, 0.002, 0.1));
  b.set_listener(log.listener());
  std::atomic<bool> stop_reader{false};
  std::atomic<bool> version_went_back{false};

  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!stop_reader.load()) {
      const auto s = b.snapshot();
      if (s.version < last) version_went_back = true;
      last = s.version;
    }
  });
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < iterations; ++i) {
        if (w == 0) clock.advance(std::chrono::microseconds{500});
        const auto now = clock.now();
        switch ((i * 7 + w) % 9) {
          case 0: b.force_open(now); break;
          case 1: b.reset(now); break;
          case 2: b.trial_now(now); break;
          case 3: b.abandon(now); break;
          case 4: b.reconfigure(consecutive_settings(1 + i % 3, 0.001, 0.002, 0.1)); break;
          case 5: b.record_success(now); break;
          default:
            if (b.allow(now) != admission::rejected) b.record_failure(now, "down");
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  stop_reader = true;
  reader.join();

  EXPECT_FALSE(version_went_back.load());
  const auto steps = log.steps();
  ASSERT_FALSE(steps.empty());
  auto expected_from = breaker_state::closed;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    ASSERT_EQ(steps[i].first, expected_from) << "transition " << i;
    ASSERT_NE(steps[i].first, steps[i].second) << "transition " << i;
    expected_from = steps[i].second;
  }
  EXPECT_EQ(b.state(), expected_from);
  const auto opens = static_cast<std::uint64_t>(
      std::count_if(steps.begin(), steps.end(), [](const auto& s) { return s.second == breaker_state::open; }));
  EXPECT_EQ(b.snapshot().times_opened, opens);
}

}  // namespace
}  // namespace healthd
